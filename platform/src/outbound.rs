//! Calls to the outside world (webhooks, channel providers, ERP, telephony) through one client
//! that cannot be turned against the inside: a tenant chooses the URL, so a URL must never
//! reach Nexo's own network, the database, or a cloud's metadata service.
//!
//! A name is resolved once, by the client's own resolver, and refused when any of its
//! addresses is loopback, private, link-local, CGNAT, multicast, reserved or otherwise not
//! public (IPv4, IPv6, and IPv4 inside IPv6: mapped, compatible, NAT64, 6to4); the connection
//! goes to the addresses that were checked, never to a second lookup. Addresses written in the
//! URL are checked the same way, and so is every redirect's target, before any connection.
//! No proxy from the environment is used (a proxy would resolve the name itself). Time and
//! response size are bounded. Hold no database transaction open across a call: a slow
//! receiver would hold the tenant's locks.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use ipnet::IpNet;
use reqwest::{
    Method, StatusCode, Url,
    dns::{Addrs, Name, Resolve, Resolving},
    header::HeaderMap,
    redirect,
};

use crate::error::{AppError, AppResult};

/// `NEXO_OUTBOUND_*`: how far outbound calls may go.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    /// `NEXO_OUTBOUND_TIMEOUT_MS`, default 10000: connect, send and read, in all.
    pub timeout: Duration,
    /// `NEXO_OUTBOUND_MAX_RESPONSE_BYTES`, default 1 MiB: a longer body is refused.
    pub max_response_bytes: usize,
    /// Redirects followed, each target checked; default 5.
    pub max_redirects: usize,
    /// `NEXO_OUTBOUND_ALLOW`: networks reachable although not public (`127.0.0.1/32` for a
    /// receiver on the development machine, an on-premises ERP's `10.1.2.3/32`).
    pub allow: Vec<IpNet>,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            max_redirects: 5,
            allow: Vec::new(),
        }
    }
}

impl OutboundConfig {
    /// Parses `NEXO_OUTBOUND_ALLOW`: comma-separated CIDRs or single addresses.
    pub fn parse_allow(raw: &str) -> anyhow::Result<Vec<IpNet>> {
        raw.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("NEXO_OUTBOUND_ALLOW: {part:?} is not a CIDR or an address")
                    })
            })
            .collect()
    }
}

/// Why `ip` may not be reached from an outbound call, or `None` for a public address.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (CGNAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address (cloud metadata lives there)",
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a reserved address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    })
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // IPv4 carried inside IPv6 is judged as the IPv4 it reaches.
    if let Some(v4) = embedded_v4(ip) {
        return refusal_v4(v4);
    }
    Some(match segments[0] {
        0xfc00..=0xfdff => "a unique-local (private) address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x0064 if segments[1] == 0xff9b => "a NAT64 address",
        0x0100 if segments[1..4] == [0, 0, 0] => "a discard address",
        0x2001 if segments[1] == 0x0db8 => "a documentation address",
        // Teredo hides an IPv4 address that cannot be judged.
        0x2001 if segments[1] == 0 => "a Teredo address",
        _ => return None,
    })
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Resolves names for outbound calls: the system's resolver, or a stub in tests.
pub trait Resolver: Send + Sync + 'static {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The system's resolver.
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|address| address.ip())
                .collect())
        })
    }
}

/// What may be reached: public addresses, and the configured exceptions.
#[derive(Clone)]
struct Gate {
    allow: Arc<Vec<IpNet>>,
}

impl Gate {
    fn check(&self, ip: IpAddr) -> Result<(), OutboundRefusal> {
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        match refusal(ip) {
            Some(why) => Err(OutboundRefusal(format!("{ip} is {why}"))),
            None => Ok(()),
        }
    }

    /// Refuses a URL Nexo does not call: another scheme, or an address written in it that
    /// may not be reached. Names are checked when they are resolved.
    fn check_url(&self, url: &Url) -> Result<(), OutboundRefusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundRefusal(format!(
                "{}: only http and https URLs are called",
                url.scheme()
            )));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(OutboundRefusal("the URL has no host".into())),
        }
    }
}

/// An outbound call refused before any connection: the reason.
#[derive(Debug)]
pub struct OutboundRefusal(pub String);

impl std::fmt::Display for OutboundRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

impl std::error::Error for OutboundRefusal {}

/// reqwest's resolver: the configured lookup, then every address checked; one refused
/// address refuses the name (a name that also points inside is not called at all).
struct CheckedResolver {
    resolver: Arc<dyn Resolver>,
    gate: Gate,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.resolver.clone();
        let gate = self.gate.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolver.lookup(host.clone()).await?;
            if addresses.is_empty() {
                return Err(Box::new(OutboundRefusal(format!("{host} has no address"))) as _);
            }
            for ip in &addresses {
                gate.check(*ip)
                    .map_err(|refusal| OutboundRefusal(format!("{host}: {}", refusal.0)))?;
            }
            let addrs: Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

/// What came back: status, headers and the body, read to at most the configured size.
#[derive(Debug)]
pub struct OutboundResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The client every outbound call goes through. Cheap to clone.
#[derive(Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    gate: Gate,
    max_response_bytes: usize,
}

impl OutboundClient {
    /// With the system's resolver.
    pub fn new(config: &OutboundConfig) -> AppResult<Self> {
        Self::with_resolver(config, Arc::new(SystemResolver))
    }

    /// With `resolver` for names (tests answer from a table).
    pub fn with_resolver(config: &OutboundConfig, resolver: Arc<dyn Resolver>) -> AppResult<Self> {
        let gate = Gate {
            allow: Arc::new(config.allow.clone()),
        };
        let redirect_gate = gate.clone();
        let max_redirects = config.max_redirects;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .dns_resolver(Arc::new(CheckedResolver {
                resolver,
                gate: gate.clone(),
            }))
            .redirect(redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    return attempt.error(OutboundRefusal("too many redirects".into()));
                }
                match redirect_gate.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refusal) => attempt.error(refusal),
                }
            }))
            .build()
            .map_err(|e| AppError::internal(format!("the outbound client did not build: {e}")))?;
        Ok(Self {
            client,
            gate,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Sends `body` to `url` with `method` and `headers`; the response as far as the size
    /// limit allows. A refused address, a failed connection, a timeout or a body over the
    /// limit is an [`OutboundError`].
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<OutboundResponse, OutboundError> {
        let url = Url::parse(url).map_err(|e| OutboundError::Refused(format!("{url:?}: {e}")))?;
        self.gate
            .check_url(&url)
            .map_err(|refusal| OutboundError::Refused(refusal.0))?;
        let mut request = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        let mut response = request.send().await.map_err(OutboundError::from_reqwest)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(OutboundError::from_reqwest)?
        {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(OutboundError::TooLarge(self.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(OutboundResponse {
            status,
            headers,
            body,
        })
    }
}

/// Why an outbound call did not get a whole response.
#[derive(Debug)]
pub enum OutboundError {
    /// Refused before any connection: the address may not be reached, or the URL is not one
    /// Nexo calls.
    Refused(String),
    /// The call did not finish in time.
    Timeout,
    /// The response body passed the limit (bytes).
    TooLarge(usize),
    /// Connecting, sending or reading failed.
    Failed(String),
}

impl OutboundError {
    fn from_reqwest(error: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if let Some(refusal) = cause.downcast_ref::<OutboundRefusal>() {
                return Self::Refused(refusal.0.clone());
            }
            source = cause.source();
        }
        if error.is_timeout() {
            Self::Timeout
        } else {
            Self::Failed(error.to_string())
        }
    }

    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(why) => write!(f, "refused: {why}"),
            Self::Timeout => f.write_str("timed out"),
            Self::TooLarge(limit) => write!(f, "the response passed {limit} bytes"),
            Self::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        refusal(text.parse().expect("an address")).is_some()
    }

    #[test]
    fn inside_addresses_are_refused_in_every_form() {
        for inside in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
        ] {
            assert!(refused(inside), "{inside} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_called() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(public), "{public} is public");
        }
    }

    #[test]
    fn the_allow_list_reads_cidrs_and_addresses() {
        let allow = OutboundConfig::parse_allow("127.0.0.1, 10.0.0.0/8,,::1").expect("parses");
        assert_eq!(allow.len(), 3);
        assert!(OutboundConfig::parse_allow("localhost").is_err());
    }
}
