//! Join churn: concurrent clients join a room and leave it again, over and
//! over, in rooms that each keep one resident member. A cycle is a whole
//! join + leave as a client does it: Vroom asks the rooms API for a ticket,
//! connects, redeems it (Welcome), sends Leave and waits for the close; the
//! peer connects, opens the namespace, joins (ack), leaves (ack) and closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::conn::Member;
use crate::stats::{Latency, histogram, record};
use crate::target::{Made, Target, teardown};

/// Join churn results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Churn {
    /// Concurrent clients.
    pub clients: usize,
    /// Rooms (each with one resident member).
    pub rooms: usize,
    /// Measured seconds.
    pub seconds: f64,
    /// Completed join + leave cycles per second.
    pub cycles_per_s: f64,
    /// Time of one whole cycle.
    pub cycle: Latency,
    /// Failed cycles.
    pub errors: u64,
    /// CPU of the server nodes, in cores.
    pub server_cores: f64,
}

async fn cycle(target: &Target, made: &Made, room: usize, turn: usize) -> Result<()> {
    let room_ref = target.admit(made).await?;
    let member = Member::join(target.system, target.node_for(room, turn), &room_ref).await?;
    member.leave(Duration::from_secs(10)).await
}

/// Runs `clients` churning clients over `rooms` rooms for `seconds`.
pub async fn churn(target: &Target, rooms: usize, clients: usize, seconds: f64) -> Result<Churn> {
    let made = target.rooms_of(0, rooms, 1, 16).await?;
    let (rooms_made, residents): (Vec<Made>, Vec<Vec<Member>>) = made.into_iter().unzip();
    // Residents keep answering pings while the others churn.
    let (stop, _) = tokio::sync::watch::channel(false);
    let mut resident_tasks = Vec::new();
    for mut room in residents {
        let mut stop = stop.subscribe();
        resident_tasks.push(tokio::spawn(async move {
            if let Some(member) = room.first_mut() {
                let system = member.system;
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        message = member.ws.next() => match message {
                            Some(Ok(message)) => {
                                if let crate::conn::Incoming::EnginePing = Member::classify(system, &message) {
                                    use futures_util::SinkExt as _;
                                    let _ = member.ws.send(tokio_tungstenite::tungstenite::Message::text("3")).await;
                                }
                            }
                            _ => break,
                        },
                    }
                }
            }
            room
        }));
    }
    let rooms_made = Arc::new(rooms_made);
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let server0 = target.cpu_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (target, rooms_made) = (target.clone(), rooms_made.clone());
        let (done, errors) = (done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = histogram();
            let mut turn = client;
            while Instant::now() < deadline {
                let room = turn % rooms_made.len();
                let began = Instant::now();
                match cycle(&target, &rooms_made[room], room, turn / rooms_made.len()).await {
                    Ok(()) => {
                        record(&mut times, began.elapsed());
                        done.fetch_add(1, Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                turn += clients;
            }
            times
        }));
    }
    let mut all = histogram();
    for task in tasks {
        let _ = all.add(&task.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let server_cores = (target.cpu_secs() - server0) / secs;
    let _ = stop.send(true);
    let mut rooms_back = Vec::new();
    for task in resident_tasks {
        rooms_back.push(task.await?);
    }
    let _ = teardown(rooms_back, 64).await;
    Ok(Churn {
        clients,
        rooms,
        seconds: secs,
        cycles_per_s: done.load(Relaxed) as f64 / secs,
        cycle: Latency::of(&all),
        errors: errors.load(Relaxed),
        server_cores,
    })
}
