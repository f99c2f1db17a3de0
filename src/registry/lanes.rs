//! The order lookups are started in, and the progress display of the registry stage.
//!
//! crates.io's lane is paced (1 request per second by default), so a 400-crate Cargo.lock costs
//! about 400 s by policy, whatever else the scan does. Three things make that bearable:
//! - its lookups are spawned before the npm and PyPI ones, so its lane starts in the first
//!   second and overlaps theirs (a mixed project costs max(npm + PyPI, crates.io));
//! - they are let into the lane one at a time in a fixed order, direct dependencies first
//!   ([`priority`]), through a [`Turnstile`] (without it the order requests take their turn would
//!   be whatever order the runtime's workers happened to poll the tasks in);
//! - the progress display gives the crates.io lane its own bar and an ETA computed from its pace
//!   ([`crates_eta`]), since its end is predictable and usually far behind the others'.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::model::Package;

/// Sort rank of one name's packages: direct dependencies first, then those no lockfile could
/// place, then the transitive ones.
pub fn priority(pkgs: &[Package]) -> u8 {
    if pkgs.iter().any(|p| p.direct == Some(true)) {
        0
    } else if pkgs.iter().any(|p| p.direct.is_none()) {
        1
    } else {
        2
    }
}

/// Lets numbered tasks into a lane in order: task `i + 1` may start once task `i` finished, or
/// one `interval` after task `i` was let in, whichever comes first. With `interval` the lane's
/// pace, task `i` has long queued for its turn when task `i + 1` is let in (queues in the lane
/// are first come, first served), so requests start in the turnstile's order and the lane never
/// waits for it.
#[derive(Debug)]
pub struct Turnstile {
    released: watch::Sender<usize>,
    interval: Duration,
}

impl Turnstile {
    /// A turnstile whose first task (number 0) may enter at once.
    pub fn new(interval: Duration) -> Arc<Turnstile> {
        Arc::new(Turnstile {
            released: watch::Sender::new(0),
            interval,
        })
    }

    /// Wait until task `i` may start.
    pub async fn enter(self: &Arc<Self>, i: usize) {
        let mut rx = self.released.subscribe();
        // The sender lives as long as `self`: this cannot fail while we hold it.
        let _ = rx.wait_for(|&released| released >= i).await;
        let me = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(me.interval).await;
            me.release(i + 1);
        });
    }

    /// Task `i` is done: the next may start.
    pub fn leave(&self, i: usize) {
        self.release(i + 1);
    }

    fn release(&self, upto: usize) {
        self.released.send_if_modified(|released| {
            let more = upto > *released;
            if more {
                *released = upto;
            }
            more
        });
    }
}

/// How long the crates.io lane still needs for `remaining` crates at one request per `pace`, as
/// shown: `12 s`, `6 min 40 s`, `1 h 5 min`.
pub fn crates_eta(remaining: u64, pace: Option<Duration>) -> String {
    let secs = pace.map_or(0, |p| (p.as_secs_f64() * remaining as f64).ceil() as u64);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The registry stage's progress on stderr (only when stderr is a terminal): one bar for the
/// npm registry and PyPI, one for crates.io with its ETA.
pub struct Progress {
    _multi: indicatif::MultiProgress,
    others: Option<indicatif::ProgressBar>,
    crates: Option<indicatif::ProgressBar>,
    pace: Option<Duration>,
}

impl Progress {
    /// Bars for `others` npm and PyPI names and `crates` crates.io names; `None` unless wanted
    /// and stderr is a terminal.
    pub fn new(
        wanted: bool,
        others: usize,
        crates: usize,
        pace: Option<Duration>,
    ) -> Option<Progress> {
        use std::io::IsTerminal;
        if !wanted || !std::io::stderr().is_terminal() {
            return None;
        }
        let multi = indicatif::MultiProgress::new();
        let bar = |len: usize, template: &str| {
            let bar = multi.add(indicatif::ProgressBar::new(len as u64));
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        };
        let others = (others > 0).then(|| {
            bar(
                others,
                "{spinner} asking the npm registry and PyPI {pos}/{len} {wide_bar}",
            )
        });
        let crates = (crates > 0).then(|| {
            let b = bar(
                crates,
                "{spinner} asking crates.io (paced) {pos}/{len} {wide_bar} about {msg} left",
            );
            b.set_message(crates_eta(crates as u64, pace));
            b.enable_steady_tick(Duration::from_millis(500));
            b
        });
        Some(Progress {
            _multi: multi,
            others,
            crates,
            pace,
        })
    }

    /// One name's lookup finished.
    pub fn done(&self, crates: bool) {
        let bar = if crates { &self.crates } else { &self.others };
        if let Some(bar) = bar {
            bar.inc(1);
            if crates {
                let left = bar.length().unwrap_or(0).saturating_sub(bar.position());
                bar.set_message(crates_eta(left, self.pace));
            }
        }
    }

    /// Remove the bars.
    pub fn finish(self) {
        for bar in [self.others, self.crates].into_iter().flatten() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, LockedPackage, merge};

    #[test]
    fn eta_follows_the_pace() {
        let second = Some(Duration::from_secs(1));
        assert_eq!(crates_eta(12, second), "12 s");
        assert_eq!(crates_eta(400, second), "6 min 40 s");
        assert_eq!(crates_eta(3900, second), "1 h 5 min");
        assert_eq!(crates_eta(10, Some(Duration::from_millis(500))), "5 s");
        assert_eq!(crates_eta(0, second), "0 s");
        assert_eq!(crates_eta(7, None), "0 s");
    }

    #[test]
    fn direct_dependencies_rank_first() {
        let pkg = |direct| {
            let mut l = LockedPackage::new(Ecosystem::Crates, "c", "1.0.0");
            l.direct = direct;
            merge(vec![(l, "Cargo.lock".into())]).remove(0)
        };
        assert_eq!(priority(&[pkg(Some(true))]), 0);
        assert_eq!(priority(&[pkg(Some(false)), pkg(Some(true))]), 0);
        assert_eq!(priority(&[pkg(None)]), 1);
        assert_eq!(priority(&[pkg(Some(false))]), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn turnstile_lets_tasks_in_in_order() {
        // Long interval: only finishing lets the next task in, so the order is exact.
        let gate = Turnstile::new(Duration::from_secs(60));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in (0..20).rev() {
            let (gate, order) = (Arc::clone(&gate), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                gate.enter(i).await;
                order.lock().unwrap().push(i);
                gate.leave(i);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn turnstile_lets_the_next_in_after_the_interval() {
        let gate = Turnstile::new(Duration::from_secs(1));
        gate.enter(0).await;
        // Task 0 never leaves (a slow request): task 1 is still let in one interval later.
        let started = tokio::time::Instant::now();
        gate.enter(1).await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
