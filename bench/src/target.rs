//! The systems under test: server nodes (address and process id) and, for
//! Vroom, the rooms API that hands out tickets.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::StreamExt as _;

use crate::conn::{Member, RoomRef, System};
use crate::http::random_b64;
use crate::stats::{cpu_secs, rss_kib};
use crate::tickets::{Api, ApiRoom};

/// One system: its nodes, their processes, and (Vroom) the rooms API.
#[derive(Clone)]
pub struct Target {
    /// Which system.
    pub system: System,
    /// Node addresses; members of a room are spread over them.
    pub nodes: Vec<SocketAddr>,
    /// Node process ids (resident memory, CPU).
    pub pids: Vec<u32>,
    /// The rooms API (Vroom only).
    pub api: Option<Api>,
}

/// A room made for a scenario: how to join it again.
#[derive(Clone)]
pub enum Made {
    /// A Vroom room (new members get tickets from the API).
    Vroom(ApiRoom),
    /// A Socket.IO room name.
    Peer(String),
}

impl Target {
    /// Parses `ADDR=PID` node specs.
    pub fn parse_nodes(specs: &[String]) -> Result<(Vec<SocketAddr>, Vec<u32>)> {
        let mut nodes = Vec::new();
        let mut pids = Vec::new();
        for spec in specs {
            let (addr, pid) = spec.split_once('=').unwrap_or((spec, "0"));
            nodes.push(
                addr.parse()
                    .with_context(|| format!("node address {addr}"))?,
            );
            pids.push(pid.parse().with_context(|| format!("node pid {pid}"))?);
        }
        Ok((nodes, pids))
    }

    /// Resident memory of all nodes, KiB.
    pub fn rss_kib(&self) -> u64 {
        self.pids.iter().map(|&pid| rss_kib(pid)).sum()
    }

    /// CPU seconds used by all nodes so far.
    pub fn cpu_secs(&self) -> f64 {
        self.pids.iter().map(|&pid| cpu_secs(pid)).sum()
    }

    fn api(&self) -> Result<&Api> {
        self.api.as_ref().context("Vroom needs --api")
    }

    /// A new room (Vroom: through the API; returns the creator's ticket).
    pub async fn new_room(&self, index: usize) -> Result<(Made, Option<RoomRef>)> {
        match self.system {
            System::Vroom => {
                let (room, ticket) = self.api()?.create_room().await?;
                let creator = RoomRef::Vroom {
                    room: room.id.clone(),
                    ticket,
                };
                Ok((Made::Vroom(room), Some(creator)))
            }
            System::Peer => Ok((
                Made::Peer(format!("bench-{index}-{}", random_b64(6)?)),
                None,
            )),
        }
    }

    /// How a new member joins `made` (Vroom: a ticket from the API).
    pub async fn admit(&self, made: &Made) -> Result<RoomRef> {
        match made {
            Made::Vroom(room) => Ok(RoomRef::Vroom {
                room: room.id.clone(),
                ticket: self.api()?.join(room).await?,
            }),
            Made::Peer(name) => Ok(RoomRef::Peer(name.clone())),
        }
    }

    /// The node for member `member` of room `room` (spread over nodes).
    pub fn node_for(&self, room: usize, member: usize) -> SocketAddr {
        self.nodes[(room + member) % self.nodes.len()]
    }

    /// Makes one room of `size` members, spread over the nodes.
    pub async fn room_of(&self, index: usize, size: usize) -> Result<(Made, Vec<Member>)> {
        let (made, creator) = self.new_room(index).await?;
        let mut members = Vec::with_capacity(size);
        for m in 0..size {
            let room_ref = match (&creator, m) {
                (Some(creator), 0) => creator.clone(),
                _ => self.admit(&made).await?,
            };
            let addr = self.node_for(index, m);
            members.push(Member::join(self.system, addr, &room_ref).await?);
        }
        Ok((made, members))
    }

    /// Makes `rooms` rooms of `size` members, `parallel` rooms at a time.
    pub async fn rooms_of(
        &self,
        first_index: usize,
        rooms: usize,
        size: usize,
        parallel: usize,
    ) -> Result<Vec<(Made, Vec<Member>)>> {
        let results: Vec<Result<(Made, Vec<Member>)>> =
            futures_util::stream::iter(first_index..first_index + rooms)
                .map(|index| self.room_of(index, size))
                .buffer_unordered(parallel.max(1))
                .collect()
                .await;
        results.into_iter().collect()
    }
}

/// Leaves with every member (a Vroom creator's leave ends its room),
/// `parallel` at a time, each within `patience`; returns the failures.
pub async fn leave_all(members: Vec<Member>, parallel: usize, patience: Duration) -> usize {
    let results: Vec<Result<()>> = futures_util::stream::iter(members)
        .map(|member| member.leave(patience))
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    results.iter().filter(|r| r.is_err()).count()
}

/// Leaves every room: ordinary members first, then each room's first
/// member (a Vroom creator, whose leave ends the room). Returns failures.
pub async fn teardown(rooms: Vec<Vec<Member>>, parallel: usize) -> usize {
    let mut firsts = Vec::new();
    let mut others = Vec::new();
    for room in rooms {
        let mut members = room.into_iter();
        firsts.extend(members.next());
        others.extend(members);
    }
    let patience = Duration::from_secs(5);
    leave_all(others, parallel, patience).await + leave_all(firsts, parallel, patience).await
}
