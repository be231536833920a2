//! The whole server side together: tickets from the rooms API (real host,
//! real component) redeemed by two real relay nodes, a room relayed across
//! them, and an end through the API that reaches every socket.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vroom_shared::relay::{ClientFrame, close};
use vroom_system_tests::relay_client::{Seen, connect, next, send};
use vroom_system_tests::{Host, RelayNode, client, new_room, room_keys};

#[tokio::test]
async fn api_tickets_open_a_room_relayed_across_two_nodes_and_ending_reaches_everyone() {
    // One node on the default multi-threaded runtime, one on a single
    // thread (`--threads 1`, how the benchmark runs nodes).
    let node_a = RelayNode::start("app-a", &[]).await;
    let node_b = RelayNode::start("app-b", &["--threads", "1"]).await;
    let host = Host::start(&[("relay_url", &node_a.url)]).await;
    let http = client();
    let (room_id, join_key) = new_room();

    let created: Value = http
        .post(host.url("/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["relay"], node_a.url.as_str());
    let joined: Value = http
        .post(host.url(&format!("/api/rooms/{room_id}/join")))
        .json(&json!({ "join_key": join_key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut creator = connect(&node_a, &room_id, created["ticket"].as_str().unwrap()).await;
    let Seen::Welcome {
        member: creator_id,
        creator: true,
    } = next(&mut creator).await
    else {
        panic!("the creator is welcomed as creator");
    };
    let mut member = connect(&node_b, &room_id, joined["ticket"].as_str().unwrap()).await;
    let Seen::Welcome {
        member: member_id,
        creator: false,
    } = next(&mut member).await
    else {
        panic!("the member is welcomed");
    };
    assert_ne!(creator_id, member_id);
    assert_eq!(next(&mut member).await, Seen::Joined(creator_id));
    assert_eq!(next(&mut creator).await, Seen::Joined(member_id));

    send(
        &mut creator,
        ClientFrame::Broadcast {
            payload: b"ciphertext-1",
        },
    )
    .await;
    assert_eq!(
        next(&mut member).await,
        Seen::Broadcast {
            from: creator_id,
            payload: b"ciphertext-1".to_vec()
        }
    );
    send(
        &mut member,
        ClientFrame::Direct {
            to: creator_id,
            payload: b"sealed-chain",
        },
    )
    .await;
    assert_eq!(
        next(&mut creator).await,
        Seen::Direct {
            from: member_id,
            payload: b"sealed-chain".to_vec()
        }
    );

    // A ticket is good once.
    let mut replay = connect(&node_b, &room_id, created["ticket"].as_str().unwrap()).await;
    assert_eq!(
        next(&mut replay).await,
        Seen::Closed(Some(close::INVALID_TICKET))
    );

    // The creator ends the room through the API: both nodes close their sockets.
    let response = http
        .delete(host.url(&format!("/api/rooms/{room_id}")))
        .bearer_auth(created["creator_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for ws in [&mut creator, &mut member] {
        assert_eq!(next(ws).await, Seen::Ended);
        assert_eq!(next(ws).await, Seen::Closed(Some(close::ROOM_ENDED)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(room_keys(&room_id).await, Vec::<String>::new());
}
