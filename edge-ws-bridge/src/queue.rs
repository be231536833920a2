//! A small unbounded MPSC queue for the per-socket and per-room command
//! queues, where most queues are empty most of the time.
//!
//! `tokio::sync::mpsc::unbounded_channel` allocates its first block of 32
//! slots up front: about 1 KiB per socket queue (`Out`) and 2 KiB per room
//! queue (`RoomCmd`), resident for every idle socket and every room. This
//! queue is a `VecDeque` behind a mutex that allocates only when something
//! is queued and gives the memory back once it drains.

use futures_util::task::AtomicWaker;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

/// Capacity kept when the queue drains: none, so an idle socket or room
/// holds no item memory (a burst costs one allocation).
const KEEP: usize = 0;

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    closed: bool,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    waker: AtomicWaker,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending half; clone it for more senders.
pub(crate) struct Sender<T> {
    inner: Arc<Inner<T>>,
}

/// The receiving half.
pub(crate) struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// A new empty queue (allocates nothing for the items yet).
pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            closed: false,
        }),
        waker: AtomicWaker::new(),
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

impl<T> Sender<T> {
    /// Queues `item`; gives it back if the receiver is gone or closed.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        {
            let mut state = self.inner.lock();
            if state.closed {
                return Err(item);
            }
            state.queue.push_back(item);
        }
        self.inner.waker.wake();
        Ok(())
    }

    /// Whether the receiver is gone or closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }

    /// Whether both senders feed the same receiver.
    pub(crate) fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.inner.lock().senders += 1;
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.inner.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            self.inner.waker.wake();
        }
    }
}

fn pop<T>(state: &mut State<T>) -> Option<T> {
    let item = state.queue.pop_front();
    if state.queue.is_empty() && state.queue.capacity() > KEEP {
        state.queue.shrink_to(KEEP);
    }
    item
}

impl<T> Receiver<T> {
    /// The next item; `None` once every sender is gone and nothing is left.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| {
            let mut state = self.inner.lock();
            if let Some(item) = pop(&mut state) {
                return Poll::Ready(Some(item));
            }
            if state.senders == 0 {
                return Poll::Ready(None);
            }
            // Registered under the lock: a send after this wakes us.
            self.inner.waker.register(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// The next item if one is queued.
    pub(crate) fn try_recv(&mut self) -> Result<T, Empty> {
        pop(&mut self.inner.lock()).ok_or(Empty)
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.lock().queue.is_empty()
    }

    /// Refuses further sends; what is queued can still be received.
    pub(crate) fn close(&mut self) {
        self.inner.lock().closed = true;
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.closed = true;
        state.queue.clear();
    }
}

/// [`Receiver::try_recv`] found nothing.
#[derive(Debug)]
pub(crate) struct Empty;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_and_ends_with_the_last_sender() {
        let (tx, mut rx) = unbounded();
        let tx2 = tx.clone();
        assert!(tx.same_channel(&tx2));
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv().ok(), Some(2));
        assert!(rx.try_recv().is_err());
        let waiter = tokio::spawn(async move {
            let got = rx.recv().await;
            (got, rx.recv().await)
        });
        tokio::task::yield_now().await;
        tx.send(3).unwrap();
        drop(tx);
        drop(tx2);
        assert_eq!(waiter.await.unwrap(), (Some(3), None));
    }

    #[tokio::test]
    async fn closed_queues_refuse_sends_and_give_memory_back() {
        let (tx, mut rx) = unbounded();
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        while rx.try_recv().is_ok() {}
        assert_eq!(rx.inner.lock().queue.capacity(), KEEP);
        assert!(rx.is_empty());
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(7), Err(7));
        drop(rx);
        assert!(tx.is_closed());
    }
}
