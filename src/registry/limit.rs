//! Adaptive concurrency per registry host: how many requests one host gets at once.
//!
//! A registry that degrades under load (a mirror that stalls above a few dozen connections, a
//! CDN edge that queues) makes any fixed concurrency wrong for most hosts: too low wastes the
//! round trips of a fast registry, too high collapses a slow one. Each host gets a [`Window`]
//! whose limit follows a latency-gradient law with multiplicative decrease ([`Law`]):
//!
//! - It starts moderate ([`INITIAL`]) and, in *slow start*, doubles once per round while the
//!   round's median time to response headers stays within [`GROW_BELOW`] of the host's
//!   baseline (the lowest round median seen) and the window was actually used (at least half of
//!   it in flight).
//! - After slow start it grows by one per round under the same condition (additive increase).
//! - A round whose median exceeds [`CUT_ABOVE`] × baseline cuts the limit in proportion
//!   (`limit × GROW_BELOW × baseline / median`, never below half): latency rising is the first
//!   sign of a queue building up at the host.
//! - A timeout, a connection failure or reset, or a 5xx cuts it at once to [`CUT_ON_FAILURE`] of
//!   itself; a 429 or 503 (the host asking us to slow down) halves it.
//! - Only answers to requests sent under the current limit count: after a change, the answers
//!   still in flight from before it neither cut it again nor make it grow.
//! - After [`BASELINE_ROUNDS`] rounds in a row above the growth band, one round runs at half the
//!   limit and its median becomes the baseline (as BBR re-measures its minimum RTT): a host whose
//!   latency rose for good is followed, while a baseline that merely aged is never replaced by
//!   the latency of a host kept in overload.
//!
//! The limit never exceeds the ceiling (`--concurrency`) nor falls below 1. A round is as many
//! answers as the limit, so a round lasts about one round trip whatever the host's speed. The
//! law takes the time and the signals as arguments, so it is tested without a network.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

/// The limit a host starts at (or the ceiling, when lower).
pub const INITIAL: usize = 8;

/// A round whose median time to headers is at most this times the baseline (plus
/// [`SLACK`]) lets the limit grow.
pub const GROW_BELOW: f64 = 1.1;

/// A round whose median time to headers exceeds this times the baseline (plus [`SLACK`])
/// cuts the limit.
pub const CUT_ABOVE: f64 = 1.25;

/// Absolute slack added to both thresholds: below a few milliseconds the scheduler's jitter,
/// not the host, decides the time to headers.
pub const SLACK: Duration = Duration::from_millis(2);

/// The limit after a timeout, connection failure or 5xx, as a share of itself.
pub const CUT_ON_FAILURE: f64 = 0.7;

/// The limit after a 429 or 503, as a share of itself.
pub const CUT_ON_BACKPRESSURE: f64 = 0.5;

/// Rounds in a row above the growth band after which the baseline is measured again, at half
/// the limit (so a host whose latency rose for good is followed after that many rounds, rather
/// than throttled for the rest of the run).
pub const BASELINE_ROUNDS: usize = 16;

/// What one request told the limiter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// The host answered (any status but 429, 5xx and 408), with the time to its headers.
    Answered(Duration),
    /// A timeout, a connection failure or reset, a 5xx or 408, or an interrupted body.
    Failed,
    /// 429 or 503: the host asks us to slow down.
    Backpressure,
}

/// The control law of one host's limit (pure: no clock, no I/O).
#[derive(Debug, Clone)]
pub struct Law {
    limit: f64,
    ceiling: f64,
    adaptive: bool,
    slow_start: bool,
    /// Bumped at every change of the limit: answers to requests sent before are ignored.
    epoch: u64,
    /// Times to headers (seconds) of the current round.
    round: Vec<f64>,
    /// Most requests in flight seen during the current round.
    busy: usize,
    /// The lowest round median (seconds), or the last probe's.
    baseline: Option<f64>,
    /// Rounds in a row above the growth band.
    stale: usize,
    /// The limit to go back to after the probe round running now.
    probe: Option<f64>,
}

impl Law {
    /// An adaptive law under `ceiling`.
    pub fn adaptive(ceiling: usize) -> Law {
        let ceiling = ceiling.max(1);
        Law {
            limit: INITIAL.min(ceiling) as f64,
            ceiling: ceiling as f64,
            adaptive: true,
            slow_start: true,
            epoch: 0,
            round: Vec::new(),
            busy: 0,
            baseline: None,
            stale: 0,
            probe: None,
        }
    }

    /// A law that keeps `limit` whatever happens (`--fixed-concurrency`).
    pub fn fixed(limit: usize) -> Law {
        Law {
            limit: limit.max(1) as f64,
            adaptive: false,
            ..Law::adaptive(limit)
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// The epoch a request sent now belongs to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// True while the limit doubles per round.
    pub fn in_slow_start(&self) -> bool {
        self.slow_start
    }

    /// The baseline time to headers (seconds), once a round has completed.
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// Take one request's signal: `epoch` is the epoch it was sent in, `in_flight` the requests
    /// in flight when it ended (itself included).
    pub fn on_signal(&mut self, epoch: u64, in_flight: usize, signal: Signal) {
        if !self.adaptive || epoch != self.epoch {
            return;
        }
        match signal {
            Signal::Failed => self.cut(CUT_ON_FAILURE),
            Signal::Backpressure => self.cut(CUT_ON_BACKPRESSURE),
            Signal::Answered(rtt) => {
                self.busy = self.busy.max(in_flight);
                self.round.push(rtt.as_secs_f64());
                if self.round.len() >= self.limit() {
                    self.end_round();
                }
            }
        }
    }

    fn end_round(&mut self) {
        let mut round = std::mem::take(&mut self.round);
        round.sort_by(f64::total_cmp);
        let median = round[round.len() / 2];
        let used = self.busy * 2 >= self.limit();
        self.busy = 0;
        if let Some(saved) = self.probe.take() {
            self.baseline = Some(median);
            self.stale = 0;
            self.set(saved);
            return;
        }
        let base = match self.baseline {
            Some(base) if base <= median => base,
            _ => {
                self.baseline = Some(median);
                median
            }
        };
        let slack = SLACK.as_secs_f64();
        if median <= base * GROW_BELOW + slack {
            self.stale = 0;
            if used {
                let grown = if self.slow_start {
                    self.limit * 2.0
                } else {
                    self.limit + 1.0
                };
                self.set(grown);
            }
            return;
        }
        if median > base * CUT_ABOVE + slack {
            let share = (GROW_BELOW * base / median).max(0.5);
            self.slow_start = false;
            self.set(self.limit * share);
        }
        self.stale += 1;
        if self.stale >= BASELINE_ROUNDS {
            self.stale = 0;
            self.probe = Some(self.limit);
            self.set(self.limit / 2.0);
        }
    }

    fn cut(&mut self, share: f64) {
        self.slow_start = false;
        self.round.clear();
        self.busy = 0;
        let from = self.probe.take().unwrap_or(self.limit);
        self.set(from * share);
    }

    fn set(&mut self, limit: f64) {
        let limit = limit.clamp(1.0, self.ceiling).floor();
        if limit != self.limit {
            self.limit = limit;
            self.epoch += 1;
            self.round.clear();
            self.busy = 0;
        }
    }
}

/// One host's window: a semaphore whose permits follow its [`Law`].
#[derive(Debug)]
pub struct Window {
    permits: Semaphore,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    law: Law,
    in_flight: usize,
    /// Permits to withhold as they come back (the limit fell while they were out).
    owed: usize,
}

impl Window {
    /// A window following `law`.
    pub fn new(law: Law) -> Window {
        Window {
            permits: Semaphore::new(law.limit()),
            state: Mutex::new(State {
                law,
                in_flight: 0,
                owed: 0,
            }),
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state.lock().map(|s| s.law.limit()).unwrap_or(1)
    }

    /// Wait for a slot; `None` only if the window was closed.
    pub async fn acquire(self: &Arc<Self>) -> Option<Slot> {
        let permit = self.permits.acquire().await.ok()?;
        permit.forget();
        let mut state = self.state.lock().ok()?;
        state.in_flight += 1;
        Some(Slot {
            window: Arc::clone(self),
            epoch: state.law.epoch(),
            signal: None,
        })
    }

    fn release(&self, epoch: u64, signal: Option<Signal>) {
        let Ok(mut state) = self.state.lock() else {
            self.permits.add_permits(1);
            return;
        };
        let before = state.law.limit();
        if let Some(signal) = signal {
            let in_flight = state.in_flight;
            state.law.on_signal(epoch, in_flight, signal);
        }
        state.in_flight = state.in_flight.saturating_sub(1);
        let after = state.law.limit();
        let mut give = 1; // this slot's permit
        if after > before {
            let more = after - before;
            let repaid = more.min(state.owed);
            state.owed -= repaid;
            give += more - repaid;
        } else {
            state.owed += before - after;
        }
        let withheld = give.min(state.owed);
        state.owed -= withheld;
        give -= withheld;
        if give > 0 {
            self.permits.add_permits(give);
        }
    }
}

/// A request's slot in its host's window; the signal noted last is reported when it is dropped.
#[derive(Debug)]
pub struct Slot {
    window: Arc<Window>,
    epoch: u64,
    signal: Option<Signal>,
}

impl Slot {
    /// Note what the request showed (a later note replaces an earlier one: headers that came
    /// in time, then a body cut off, is a failure).
    pub fn note(&mut self, signal: Signal) {
        self.signal = Some(signal);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.window.release(self.epoch, self.signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Signal {
        Signal::Answered(Duration::from_millis(n))
    }

    /// Feed one full round of answers taking `rtt_ms` with the window full.
    fn round(law: &mut Law, rtt_ms: u64) {
        let (epoch, n) = (law.epoch(), law.limit());
        for _ in 0..n {
            law.on_signal(epoch, n, ms(rtt_ms));
        }
    }

    #[test]
    fn slow_start_doubles_up_to_the_ceiling_while_latency_holds() {
        let mut law = Law::adaptive(64);
        assert_eq!(law.limit(), INITIAL);
        let mut seen = vec![law.limit()];
        for _ in 0..4 {
            round(&mut law, 50);
            seen.push(law.limit());
        }
        assert_eq!(seen, [8, 16, 32, 64, 64]);
        assert!(law.in_slow_start());
        assert_eq!(
            Law::adaptive(4).limit(),
            4,
            "never starts above the ceiling"
        );
    }

    #[test]
    fn rising_latency_cuts_in_proportion_and_ends_slow_start() {
        let mut law = Law::adaptive(64);
        round(&mut law, 20); // baseline 20 ms; 8 -> 16
        round(&mut law, 20); // 16 -> 32
        round(&mut law, 80); // four times the baseline at 32
        assert!(!law.in_slow_start());
        // 32 * 1.1 * 20 / 80 = 8.8, but never below half: 16.
        assert_eq!(law.limit(), 16);
        round(&mut law, 30); // still 1.5x: 16 * 1.1 / 1.5 = 11.7
        assert_eq!(law.limit(), 11);
        round(&mut law, 20); // back at the baseline: additive increase
        assert_eq!(law.limit(), 12);
        round(&mut law, 22); // within 1.1x (+ slack): grows
        assert_eq!(law.limit(), 13);
        round(&mut law, 26); // between 1.1x and 1.25x (+ slack): holds
        assert_eq!(law.limit(), 13);
    }

    #[test]
    fn failures_and_backpressure_cut_at_once() {
        let mut law = Law::adaptive(64);
        round(&mut law, 10);
        round(&mut law, 10);
        assert_eq!(law.limit(), 32);
        let epoch = law.epoch();
        law.on_signal(epoch, 32, Signal::Failed);
        assert_eq!(law.limit(), 22);
        // Failures of requests sent before the cut do not cut again.
        for _ in 0..20 {
            law.on_signal(epoch, 32, Signal::Failed);
        }
        assert_eq!(law.limit(), 22);
        law.on_signal(law.epoch(), 22, Signal::Backpressure);
        assert_eq!(law.limit(), 11);
        for _ in 0..10 {
            law.on_signal(law.epoch(), 1, Signal::Backpressure);
        }
        assert_eq!(law.limit(), 1, "never below one");
    }

    #[test]
    fn answers_from_before_a_change_do_not_count() {
        let mut law = Law::adaptive(64);
        let old = law.epoch();
        round(&mut law, 10); // 8 -> 16
        for _ in 0..100 {
            law.on_signal(old, 16, ms(500));
        }
        assert_eq!(
            law.limit(),
            16,
            "slow answers sent at the old limit are ignored"
        );
    }

    #[test]
    fn an_idle_window_does_not_grow() {
        let mut law = Law::adaptive(64);
        let epoch = law.epoch();
        for _ in 0..8 {
            law.on_signal(epoch, 1, ms(10)); // one request at a time: the limit is not tested
        }
        assert_eq!(law.limit(), 8);
    }

    #[test]
    fn the_baseline_follows_a_host_that_really_slowed_down() {
        let mut law = Law::adaptive(16);
        round(&mut law, 10);
        round(&mut law, 10);
        assert_eq!(law.limit(), 16);
        // The host is now three times slower for good: the limit falls, then, once the fast
        // rounds have left the baseline, grows back.
        for _ in 0..(BASELINE_ROUNDS + 40) {
            round(&mut law, 30);
        }
        assert_eq!(law.limit(), 16);
        assert!((law.baseline().unwrap() - 0.030).abs() < 1e-9);
    }

    #[test]
    fn fixed_law_never_moves() {
        let mut law = Law::fixed(24);
        round(&mut law, 10);
        law.on_signal(law.epoch(), 24, Signal::Failed);
        round(&mut law, 500);
        assert_eq!(law.limit(), 24);
    }

    /// A host serving up to `n` requests at `base` latency, slowing down as (in flight / n)²
    /// above that (throughput falls as n / in flight): the limit settles near `n`.
    #[test]
    fn settles_near_the_knee_of_a_degrading_host() {
        for (n, ceiling) in [(8usize, 64usize), (24, 64), (64, 64), (40, 256)] {
            let mut law = Law::adaptive(ceiling);
            let mut limits = Vec::new();
            for _ in 0..200 {
                let a = law.limit() as f64;
                let factor = if a > n as f64 {
                    (a / n as f64).powi(2)
                } else {
                    1.0
                };
                round(&mut law, (20.0 * factor) as u64);
                limits.push(law.limit());
            }
            let tail = &limits[100..];
            let mean = tail.iter().sum::<usize>() as f64 / tail.len() as f64;
            let want = n.min(ceiling) as f64;
            assert!(
                (mean - want).abs() <= want * 0.2 + 1.0,
                "n {n}: mean limit {mean:.1}, limits {tail:?}"
            );
        }
    }

    #[tokio::test]
    async fn window_permits_follow_the_limit() {
        let window = Arc::new(Window::new(Law::adaptive(64)));
        // Eight slots at once, not nine.
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(window.acquire().await.unwrap());
        }
        assert!(window.permits.try_acquire().is_err());
        for mut s in slots.drain(..) {
            s.note(ms(10));
        }
        // One full round: the limit doubled and all sixteen permits are free.
        assert_eq!(window.limit(), 16);
        assert_eq!(window.permits.available_permits(), 16);
        for _ in 0..16 {
            slots.push(window.acquire().await.unwrap());
        }
        slots[0].note(Signal::Failed);
        slots.remove(0); // the limit falls to 11 with 15 still out: 4 are owed
        assert_eq!(window.limit(), 11);
        assert_eq!(window.permits.available_permits(), 0);
        slots.clear(); // dropped without a signal (cancelled): only returned
        assert_eq!(window.permits.available_permits(), 11);
    }
}
