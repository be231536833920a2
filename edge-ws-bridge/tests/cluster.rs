//! Cluster mode: two relay nodes on a private three-shard Redis Cluster,
//! scripts routed by slot, sharded pub/sub on the shard owning the room.

mod common;

use common::*;
use std::time::Duration;
use vroom_shared::redis::{presence_key, room_key, tickets_key};

const S5: Duration = Duration::from_secs(5);

async fn room_keys_exist(r: &mut redis::cluster_async::ClusterConnection, room: &TestRoom) -> bool {
    for key in [
        room_key(&room.id),
        presence_key(&room.id),
        tickets_key(&room.id),
    ] {
        let n: i64 = redis::cmd("EXISTS").arg(&key).query_async(r).await.unwrap();
        if n > 0 {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_on_a_redis_cluster() {
    let cluster = PrivateCluster::start();
    let urls = cluster.urls();
    let n1 = Relay::start(&urls, &["--redis-cluster"]);
    let n2 = Relay::start(&urls, &["--redis-cluster"]);
    let mut r = cluster.connection().await;
    // Several rooms, so that they land on different shards.
    let mut rooms = Vec::new();
    for _ in 0..4 {
        let room = create_room(&mut r, 600, 600, 8).await;
        let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
        let t = room.ticket(&mut r, false).await;
        let mut b = Client::join(n2.addr, &room.id, &t).await;
        assert_eq!(b.expect().await, Got::Joined(a.member));
        assert_eq!(a.expect().await, Got::Joined(b.member));
        a.broadcast(b"across the cluster").await;
        assert_eq!(
            b.expect().await,
            Got::Broadcast {
                from: a.member,
                payload: b"across the cluster".to_vec()
            }
        );
        b.direct(a.member, b"back").await;
        assert_eq!(
            a.expect().await,
            Got::Direct {
                from: b.member,
                payload: b"back".to_vec()
            }
        );
        rooms.push((room, a, b));
    }
    // Ending through the API (END_ROOM with SPUBLISH on the room's shard)
    // and through the creator's leave.
    for (i, (room, mut a, mut b)) in rooms.into_iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(room.api_end_with(&mut r, "SPUBLISH").await, 1);
            a.expect_ended(S5).await;
        } else {
            a.leave().await;
        }
        b.expect_ended(S5).await;
        assert!(!room_keys_exist(&mut r, &room).await, "keys remain");
    }
    for n in [&n1, &n2] {
        n.wait_metrics(&["relay_rooms 0", "relay_redis_subscriptions 0"], S5)
            .await;
    }
}
