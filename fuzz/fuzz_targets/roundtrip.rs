//! Structured round trips: whatever one side sends, in any fragmentation, interleaved with
//! control frames and delivered in any chunking, the other side decodes to exactly the same
//! messages, in both directions, with and without permessage-deflate.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{Accept, ClientRequest, Config, Connection, Event, Message, MessageKind};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Fragmented { binary: bool, pieces: Vec<Vec<u8>> },
    Ping(Vec<u8>),
    Uncompressed(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    deflate: Option<(bool, bool, u8, u16)>,
    client_sends: bool,
    ops: Vec<Op>,
    chunks: Vec<u16>,
}

#[derive(Debug, PartialEq)]
enum Seen {
    Text(String),
    Binary(Bytes),
    Ping(Bytes),
}

fuzz_target!(|input: Input| {
    let config = match input.deflate {
        Some((server_reset, client_reset, bits, threshold)) => Config::default().permessage_deflate(
            DeflateConfig::default()
                .server_no_context_takeover(server_reset)
                .client_no_context_takeover(client_reset)
                .server_max_window_bits(8 + bits % 8)
                .client_max_window_bits(8 + bits / 8 % 8)
                .threshold(usize::from(threshold % 256)),
        ),
        None => Config::default(),
    };
    let mut client = Connection::client(ClientRequest::new("ws://fuzz/").unwrap(), config.clone());
    let mut server = Connection::server(config);
    server.receive(&client.take_outgoing());
    let Ok(Some(Event::Request(_))) = server.next_event() else {
        panic!("request")
    };
    server.accept(Accept::new()).unwrap();
    client.receive(&server.take_outgoing());
    let Ok(Some(Event::Open(_))) = client.next_event() else {
        panic!("open")
    };
    assert_eq!(client.permessage_deflate(), server.permessage_deflate());

    let (sender, receiver) = if input.client_sends {
        (&mut client, &mut server)
    } else {
        (&mut server, &mut client)
    };
    let mut expected = Vec::new();
    for op in &input.ops {
        match op {
            Op::Text(text) => {
                sender.send_text(text).unwrap();
                expected.push(Seen::Text(text.clone()));
            }
            Op::Binary(data) => {
                // As `Bytes`: a server queues large ones by reference instead of copying.
                let data = Bytes::copy_from_slice(data);
                sender.send(&Message::Binary(data.clone())).unwrap();
                expected.push(Seen::Binary(data));
            }
            Op::Uncompressed(data) => {
                sender.send_message(MessageKind::Binary, data, false).unwrap();
                expected.push(Seen::Binary(Bytes::copy_from_slice(data)));
            }
            Op::Ping(data) => {
                let data = &data[..data.len().min(125)];
                sender.ping(data).unwrap();
                expected.push(Seen::Ping(Bytes::copy_from_slice(data)));
            }
            Op::Fragmented { binary, pieces } => {
                let kind = if *binary {
                    MessageKind::Binary
                } else {
                    MessageKind::Text
                };
                // Text fragments must add up to UTF-8: use the lossy form of each piece.
                let pieces: Vec<Vec<u8>> = pieces
                    .iter()
                    .map(|p| {
                        if *binary {
                            p.clone()
                        } else {
                            String::from_utf8_lossy(p).into_owned().into_bytes()
                        }
                    })
                    .collect();
                let count = pieces.len().max(1);
                for i in 0..count {
                    let piece = pieces.get(i).map(Vec::as_slice).unwrap_or_default();
                    sender.send_fragment(kind, piece, i + 1 == count).unwrap();
                }
                let all = pieces.concat();
                expected.push(if *binary {
                    Seen::Binary(all.into())
                } else {
                    Seen::Text(String::from_utf8(all).unwrap())
                });
            }
        }
    }
    let wire = sender.take_outgoing();
    let mut seen = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos <= wire.len() {
        let size = usize::from(input.chunks.get(i).copied().unwrap_or(u16::MAX)).max(1);
        let end = (pos + size).min(wire.len());
        receiver.receive(&wire[pos..end]);
        while let Some(event) = receiver.next_event().expect("valid input decodes") {
            seen.push(match event {
                Event::Text(t) => Seen::Text(t.as_str().to_owned()),
                Event::Binary(b) => Seen::Binary(b),
                Event::Ping(p) => Seen::Ping(p),
                other => panic!("unexpected {other:?}"),
            });
        }
        if end == wire.len() {
            break;
        }
        pos = end;
        i += 1;
    }
    assert_eq!(seen, expected);
});
