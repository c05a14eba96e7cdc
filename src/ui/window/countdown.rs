//! A once-a-second countdown owned by the window (the reconnect banner's),
//! stopped whenever the banner goes.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;

#[derive(Debug, Default)]
pub(super) struct Countdown {
    /// Shared with the running timer, which clears it when it ends by
    /// itself, so `stop` never removes a source that is already gone.
    source: Rc<RefCell<Option<glib::SourceId>>>,
}

impl Countdown {
    /// Calls `tick` with the seconds left now and then once a second,
    /// until 0.
    pub(super) fn start(&self, seconds: u64, tick: impl Fn(u64) + 'static) {
        self.stop();
        if seconds == 0 {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let slot = Rc::downgrade(&self.source);
        let source = glib::timeout_add_local(Duration::from_secs(1), move || {
            // From the deadline, not by counting ticks: a busy main loop
            // may run a tick late.
            let left = deadline.saturating_duration_since(Instant::now());
            let seconds_left = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            tick(seconds_left);
            if seconds_left > 0 {
                return glib::ControlFlow::Continue;
            }
            if let Some(slot) = slot.upgrade() {
                slot.borrow_mut().take();
            }
            glib::ControlFlow::Break
        });
        self.source.borrow_mut().replace(source);
    }

    pub(super) fn stop(&self) {
        if let Some(source) = self.source.borrow_mut().take() {
            source.remove();
        }
    }
}
