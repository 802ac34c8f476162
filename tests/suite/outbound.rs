//! The outbound client cannot be turned against the inside: every refusal happens before any
//! connection, shown with a local receiver that counts its connections and a stub resolver.

use std::{
    collections::HashMap,
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use api::outbound::{OutboundClient, OutboundConfig, OutboundError, Resolver};
use reqwest::{Method, header::HeaderMap};
use tokio::{io::AsyncWriteExt, net::TcpListener};

/// Names answered from a table, as a DNS server would.
struct StubResolver(HashMap<String, Vec<IpAddr>>);

impl Resolver for StubResolver {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let answer = self.0.get(&host).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such name"))
        })
    }
}

/// An HTTP receiver on a loopback address: `/` answers `ok`, `/redirect?to=URL` answers 302
/// to URL, `/big` sends 2 MiB, `/hang` never answers. It counts the connections it accepts.
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
}

async fn receiver(address: &str) -> Option<Receiver> {
    let listener = TcpListener::bind((address, 0)).await.ok()?;
    let port = listener.local_addr().ok()?.port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Some(head) = tests::read_request_head(&mut socket).await else {
                    return;
                };
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = if let Some(to) = path.strip_prefix("/redirect?to=") {
                    format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .into_bytes()
                } else if path == "/big" {
                    let mut big =
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n"
                            .to_vec();
                    big.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
                    big
                } else if path == "/hang" {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                } else {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec()
                };
                let _ = socket.write_all(&response).await;
            });
        }
    });
    Some(Receiver { port, connections })
}

fn client(allow: &str, names: &[(&str, &[&str])]) -> OutboundClient {
    let config = OutboundConfig {
        allow: OutboundConfig::parse_allow(allow).expect("allow list"),
        timeout: Duration::from_millis(1500),
        ..OutboundConfig::default()
    };
    let table = names
        .iter()
        .map(|(name, addresses)| {
            let addresses = addresses
                .iter()
                .map(|a| a.parse().expect("an address"))
                .collect();
            ((*name).to_owned(), addresses)
        })
        .collect();
    OutboundClient::with_resolver(&config, Arc::new(StubResolver(table))).expect("client")
}

async fn get(
    client: &OutboundClient,
    url: &str,
) -> Result<api::outbound::OutboundResponse, OutboundError> {
    client.send(Method::GET, url, HeaderMap::new(), None).await
}

fn assert_refused(result: Result<api::outbound::OutboundResponse, OutboundError>, what: &str) {
    match result {
        Err(error) if error.is_refused() => {}
        other => panic!("{what} must be refused before connecting, got {other:?}"),
    }
}

#[tokio::test]
async fn inside_addresses_are_refused_before_any_connection() {
    let v4 = receiver("127.0.0.1").await.expect("a loopback receiver");
    let v6 = receiver("::1").await;
    let client = client(
        "",
        &[
            ("inside.test", &["10.1.2.3"]),
            ("loopback.test", &["127.0.0.1"]),
            ("half.test", &["93.184.216.34", "192.168.0.10"]),
            ("metadata.test", &["169.254.169.254"]),
        ],
    );
    let port = v4.port;
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[64:ff9b::7f00:1]:{port}/"),
        "http://10.0.0.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://loopback.test:{port}/"),
        "http://inside.test/".to_owned(),
        "http://half.test/".to_owned(),
        "http://metadata.test/".to_owned(),
        "file:///etc/passwd".to_owned(),
        "ftp://example.com/".to_owned(),
    ] {
        assert_refused(get(&client, &url).await, &url);
    }
    assert_eq!(
        v4.connections.load(Ordering::SeqCst),
        0,
        "no connection reached the receiver"
    );
    if let Some(v6) = v6 {
        let url = format!("http://[::1]:{}/", v6.port);
        assert_refused(get(&client, &url).await, &url);
        assert_eq!(v6.connections.load(Ordering::SeqCst), 0);
    } else {
        eprintln!("no IPv6 loopback here: [::1] checked without a receiver");
        assert_refused(get(&client, "http://[::1]/").await, "[::1]");
    }
}

#[tokio::test]
async fn an_allowed_receiver_is_called_and_redirects_inside_are_refused() {
    let receiver = receiver("127.0.0.1").await.expect("a loopback receiver");
    let port = receiver.port;
    let client = client(
        "127.0.0.1/32",
        &[
            ("receiver.test", &["127.0.0.1"]),
            ("inside.test", &["10.9.8.7"]),
        ],
    );
    let direct = get(&client, &format!("http://127.0.0.1:{port}/"))
        .await
        .expect("the allowed receiver answers");
    assert_eq!(
        (direct.status.as_u16(), direct.body.as_slice()),
        (200, &b"ok"[..])
    );
    let by_name = get(&client, &format!("http://receiver.test:{port}/"))
        .await
        .expect("the allowed receiver answers by name");
    assert_eq!(by_name.status.as_u16(), 200);

    let followed = get(
        &client,
        &format!("http://127.0.0.1:{port}/redirect?to=http://127.0.0.1:{port}/"),
    )
    .await
    .expect("a redirect to an allowed address is followed");
    assert_eq!(followed.body, b"ok");

    for target in [
        "http://10.0.0.1/".to_owned(),
        "http://169.254.169.254/".to_owned(),
        format!("http://[::1]:{port}/"),
        "http://inside.test/".to_owned(),
    ] {
        let before = receiver.connections.load(Ordering::SeqCst);
        let url = format!("http://127.0.0.1:{port}/redirect?to={target}");
        assert_refused(get(&client, &url).await, &format!("a 302 to {target}"));
        assert_eq!(
            receiver.connections.load(Ordering::SeqCst),
            before + 1,
            "only the redirecting request connected"
        );
    }
}

#[tokio::test]
async fn time_and_response_size_are_bounded() {
    let receiver = receiver("127.0.0.1").await.expect("a loopback receiver");
    let client = client("127.0.0.1/32", &[]);
    let big = get(&client, &format!("http://127.0.0.1:{}/big", receiver.port)).await;
    assert!(matches!(big, Err(OutboundError::TooLarge(_))), "{big:?}");
    let hang = get(&client, &format!("http://127.0.0.1:{}/hang", receiver.port)).await;
    assert!(matches!(hang, Err(OutboundError::Timeout)), "{hang:?}");
}
