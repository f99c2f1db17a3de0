//! The HTML report: structure and escaping in Rust, then in a real browser (headless Chromium,
//! when installed): no console errors, no network request, the script ran, a screenshot, and no
//! markup injected by hostile names.

#[path = "data/reports/sample.rs"]
mod sample;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use provscan::render::html;

#[test]
fn failing_and_flagged_packages_come_first_and_charts_have_words() {
    let html = html::render(&sample::mixed());
    let rows: Vec<&str> = html
        .split("<tr role=\"row\"")
        .skip(2) // before the header row, the header row
        .collect();
    assert_eq!(rows.len(), 25);
    assert!(rows[0].starts_with(" class=\"attn\""), "{}", rows[0]);
    assert!(rows[1].starts_with(" class=\"attn\""));
    assert!(rows[2].starts_with(" class=\"flagged\""));
    assert!(rows[0].contains("evil-pkg") || rows[0].contains("was-attested"));
    for chart in [
        "Provenance coverage by ecosystem",
        "Statuses",
        "Who builds the tree",
        "Top external builders",
    ] {
        assert!(html.contains("<title id="), "{chart}");
        assert!(html.contains(chart), "{chart}");
    }
    assert_eq!(html.matches("role=\"img\"").count(), 4);
    assert_eq!(html.matches("<desc id=").count(), 4);
    assert!(html.contains("Policy failed"));
    assert!(html.contains("<code>github:acme/*</code>"));
    // Independence: 3 own (acme), babel builds three of the external packages.
    assert!(html.contains("github:babel"), "top builders");
    assert!(html.contains("prefers-color-scheme:dark"));
    assert!(html.contains("package-lock.json:10"));
    // Self-contained: nothing to load.
    for needle in ["src=", "href=", "@import", "url(", "http://", "https://"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
}

#[test]
fn hostile_names_are_text_not_markup() {
    let html = html::render(&sample::hostile());
    assert!(!html.contains(sample::PAYLOAD));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains("<svg onload"));
    assert!(!html.contains("</style></title>"));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
    assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
}

#[test]
fn the_diff_renders_as_html() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff");
    let out = assert_cmd::Command::cargo_bin("provscan")
        .unwrap()
        .args(["diff", "--format", "html"])
        .arg(data.join("old.json"))
        .arg(data.join("new.json"))
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for section in ["Got weaker", "Got stronger", "Added", "Removed"] {
        assert!(html.contains(&format!(">{section}</h2>")), "{section}");
    }
    assert_eq!(
        out.status.code(),
        Some(1),
        "the sample diff has regressions"
    );
    assert!(html.contains("Regressions found"));
}

// ---- In a real browser ----

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROVSCAN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A proxy on 127.0.0.1 that answers nothing and records every request line: any request the
/// page makes reaches it (the browser is told to send everything, loopback included, there).
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                log.lock().unwrap().push(line.trim().to_string());
            }
        });
        Recorder { port, seen }
    }
}

/// Hosts of Chromium's own background services.
const BROWSER_SERVICES: [&str; 6] = [
    "clients2.google.com",
    "update.googleapis.com",
    "accounts.google.com",
    "redirector.gvt1.com",
    "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
];

/// The host a proxy request line names (`GET http://host/path …`, `CONNECT host:443 …`).
fn request_host(line: &str) -> Option<&str> {
    let target = line.split_whitespace().nth(1)?;
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    rest.split(['/', ':']).next()
}

struct Run {
    dom: String,
    log: String,
    requests: Vec<String>,
}

fn browse(browser: &Path, page: &Path, extra: &[String]) -> Run {
    let profile = tempfile::tempdir().unwrap();
    let recorder = Recorder::start();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", recorder.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    // Chromium's own services (clock sync, component updates, sign-in) still call home in
    // headless mode whatever the flags; those requests are the browser's, not the page's.
    let requests = recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|line| {
            !BROWSER_SERVICES
                .iter()
                .any(|host| request_host(line) == Some(*host))
        })
        .cloned()
        .collect();
    Run {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        log: String::from_utf8_lossy(&out.stderr).into_owned(),
        requests,
    }
}

/// Console messages and blocked loads in Chromium's log.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || l.contains("Content Security Policy")
        })
        .collect()
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn in_a_real_browser_the_page_loads_nothing_logs_no_error_and_renders() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium installed (set PROVSCAN_CHROMIUM or install chromium)");
        return;
    };
    let dir = out_dir();
    let page = dir.join("mixed.html");
    std::fs::write(&page, html::render(&sample::mixed())).unwrap();

    let run = browse(&browser, &page, &["--dump-dom".into()]);
    assert!(
        run.dom.contains("data-js=\"ok 0\""),
        "the script did not run, or the page loaded resources:\n{}",
        &run.dom[..run.dom.len().min(400)]
    );
    assert!(
        run.dom.contains("<div id=\"filter\">"),
        "the script shows the filter"
    );
    assert_eq!(
        console_errors(&run.log),
        Vec::<&str>::new(),
        "console errors"
    );
    assert_eq!(run.requests, Vec::<String>::new(), "network requests");

    let shot = dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let run = browse(
        &browser,
        &page,
        &[format!("--screenshot={}", shot.display())],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot"
    );
    assert_eq!(run.requests, Vec::<String>::new(), "network requests");
    eprintln!("screenshot: {}", shot.display());

    // Without JavaScript (the page with its script removed: `--dump-dom` itself needs
    // scripting) everything but filtering is there.
    let html = std::fs::read_to_string(&page).unwrap();
    let (head, rest) = html.split_once("<script>").unwrap();
    let (_, tail) = rest.split_once("</script>").unwrap();
    let bare = dir.join("mixed-nojs.html");
    std::fs::write(&bare, format!("{head}{tail}")).unwrap();
    let run = browse(&browser, &bare, &["--dump-dom".into()]);
    assert!(!run.dom.contains("data-js="));
    assert!(run.dom.contains("<div id=\"filter\" hidden=\"\">"));
    assert!(run.dom.contains("Filtering needs JavaScript"));
    assert_eq!(run.dom.matches("<tr role=\"row\"").count(), 26);
}

#[test]
fn in_a_real_browser_hostile_names_inject_no_markup() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium installed (set PROVSCAN_CHROMIUM or install chromium)");
        return;
    };
    let page = out_dir().join("hostile.html");
    std::fs::write(&page, html::render(&sample::hostile())).unwrap();
    let run = browse(&browser, &page, &["--dump-dom".into()]);
    assert!(
        run.dom.contains("data-js=\"ok 0\""),
        "the page's own script ran"
    );
    assert_eq!(run.dom.matches("<script").count(), 1, "one script element");
    assert!(!run.dom.contains("<img"), "no injected image");
    assert!(!run.dom.contains("onerror=") || !run.dom.contains("<img "));
    assert!(!run.dom.contains("onload=\"alert"), "no injected handler");
    assert!(!run.dom.contains("pwned</title>") && !run.dom.contains("<title>pwned"));
    assert!(
        run.dom.contains("<title>provscan report: ."),
        "title intact"
    );
    assert_eq!(
        console_errors(&run.log),
        Vec::<&str>::new(),
        "console errors"
    );
    assert_eq!(run.requests, Vec::<String>::new(), "network requests");
}
