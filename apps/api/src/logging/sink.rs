//! Lines waiting to be written: formatted on the request's thread, written out in batches by a
//! background thread. If the writer falls behind, lines are dropped and counted.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

const WAKE_AT: usize = 256 * 1024;
const MAX_BUFFERED: usize = 8 * 1024 * 1024;

/// Lines waiting to be written.
#[derive(Default)]
pub struct Sink {
    buf: Mutex<Vec<u8>>,
    wake: Condvar,
    /// Held while writing a batch, so batches leave in order.
    out: Mutex<()>,
    dropped: AtomicU64,
}

impl Sink {
    pub(super) fn push(&self, line: &[u8]) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.len() + line.len() > MAX_BUFFERED {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        buf.extend_from_slice(line);
        if buf.len() >= WAKE_AT {
            self.wake.notify_one();
        }
    }

    /// Takes what is buffered (waiting up to `wait` for something to arrive).
    pub fn take(&self, wait: Duration) -> Vec<u8> {
        let mut batch = Vec::new();
        self.swap(wait, &mut batch);
        batch
    }

    /// Swaps the buffer with `spare` (empty), so both keep their capacity.
    fn swap(&self, wait: Duration, spare: &mut Vec<u8>) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.is_empty() && !wait.is_zero() {
            buf = self
                .wake
                .wait_timeout(buf, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        std::mem::swap(&mut *buf, spare);
    }

    pub(super) fn write_out(&self, wait: Duration, spare: &mut Vec<u8>) {
        let _order = self.out.lock().unwrap_or_else(|e| e.into_inner());
        self.swap(wait, spare);
        if !spare.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(spare).and_then(|()| out.flush());
            spare.clear();
            spare.shrink_to(4 * WAKE_AT);
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}
