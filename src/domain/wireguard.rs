//! WireGuard rules: public keys, address pools and allocation, and config files.

use super::{has_control_chars, FieldError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ipnet::IpNet;
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// A WireGuard public (or private) key: canonical base64 of 32 bytes, not all zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WgKey(String);

impl fmt::Display for WgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a key was refused, as a sentence.
pub fn key_problem(raw: &str) -> Option<&'static str> {
    const CANONICAL_LAST: &str = "AEIMQUYcgkosw048";
    let s = raw.trim_matches(' ');
    if s.is_empty() {
        return Some("Enter a WireGuard public key.");
    }
    if s.len() != 44 || !s.is_ascii() {
        return Some("A WireGuard key is exactly 44 characters of base64 ending in \"=\", as printed by `wg pubkey`.");
    }
    let bytes = s.as_bytes();
    let alphabet_ok = bytes[..43]
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/');
    if !alphabet_ok || bytes[43] != b'=' {
        return Some("A WireGuard key uses only the base64 characters A–Z, a–z, 0–9, + and /, and ends in \"=\".");
    }
    if !CANONICAL_LAST.contains(char::from(bytes[42])) {
        return Some("This is not a canonical WireGuard key (its last character before \"=\" is off); copy it again from `wg pubkey`.");
    }
    match STANDARD.decode(s) {
        Ok(key) if key.len() == 32 && key.iter().all(|b| *b == 0) => {
            Some("The all-zero key is not a usable WireGuard key.")
        }
        Ok(key) if key.len() == 32 => None,
        _ => Some("This key does not decode to 32 bytes; copy it again from `wg pubkey`."),
    }
}

impl WgKey {
    /// Parses a key for the form field `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        match key_problem(raw) {
            Some(message) => Err(FieldError::new(field, message)),
            None => Ok(Self(raw.trim_matches(' ').to_owned())),
        }
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(STANDARD.encode(bytes))
    }

    /// Wraps a key read back from the database, which was validated when written.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    /// The base64 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One CIDR of a location's pool, written with the gateway's own address (`10.10.0.1/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolCidr(IpNet);

impl PoolCidr {
    /// The gateway's address.
    pub fn gateway(&self) -> IpAddr {
        self.0.addr()
    }

    /// The network, e.g. `10.10.0.0/24`.
    pub fn network(&self) -> IpNet {
        self.0.trunc()
    }

    /// As written, e.g. `10.10.0.1/24`.
    pub fn as_net(&self) -> IpNet {
        self.0
    }

    /// Whether `ip` may be given to a device: inside the network, not the network,
    /// broadcast or gateway address.
    pub fn is_assignable(&self, ip: IpAddr) -> bool {
        let net = self.0.trunc();
        net.contains(&ip)
            && ip != net.network()
            && ip != self.gateway()
            && !(matches!(ip, IpAddr::V4(_)) && ip == net.broadcast())
    }

    /// How many devices the network has addresses for.
    pub fn capacity(&self) -> u128 {
        match self.0.trunc() {
            IpNet::V4(v4) => v4
                .hosts()
                .filter(|ip| self.is_assignable(IpAddr::V4(*ip)))
                .count() as u128,
            // Everything but the network and the gateway's own address.
            IpNet::V6(v6) => (1u128 << (128 - u32::from(v6.prefix_len())).min(127)) - 2,
        }
    }

    /// The first assignable address not in `used`, if any.
    pub fn first_free(&self, used: &HashSet<IpAddr>) -> Option<IpAddr> {
        let net = self.0.trunc();
        let ok = |ip: &IpAddr| self.is_assignable(*ip) && !used.contains(ip);
        match net {
            IpNet::V4(v4) => v4.hosts().map(IpAddr::V4).find(ok),
            // A v6 pool is far larger than any device count: stop after a generous window.
            IpNet::V6(v6) => v6.hosts().take(used.len() + 3).map(IpAddr::V6).find(ok),
        }
    }
}

/// Parses a location's address pool: one or more comma-separated CIDRs, each written with
/// the gateway's own address.
pub fn parse_pool(field: &'static str, raw: &str) -> Result<Vec<PoolCidr>, FieldError> {
    let parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(FieldError::new(
            field,
            "Enter the gateway's address with its network size, such as 10.10.0.1/24.",
        ));
    }
    let mut out: Vec<PoolCidr> = Vec::new();
    for part in parts {
        let net: IpNet = part.parse().map_err(|_| {
            FieldError::new(field, format!("\"{part}\" is not an address with a network size, such as 10.10.0.1/24 or fd00::1/64."))
        })?;
        let too_small = match net {
            IpNet::V4(n) => n.prefix_len() > 30,
            IpNet::V6(n) => n.prefix_len() > 126,
        };
        if too_small {
            return Err(FieldError::new(
                field,
                format!("{part} leaves no address for devices; use a larger network such as /24."),
            ));
        }
        let trunc = net.trunc();
        if net.addr() == trunc.network()
            || (net.addr() == trunc.broadcast() && net.addr().is_ipv4())
        {
            return Err(FieldError::new(
                field,
                format!("Write the gateway's own address in {part}, not the network or broadcast address (for example {}).", first_host(trunc)),
            ));
        }
        if out.iter().any(|o| {
            o.network().contains(&trunc.network()) || trunc.contains(&o.network().network())
        }) {
            return Err(FieldError::new(
                field,
                format!("{part} overlaps another network of this location."),
            ));
        }
        out.push(PoolCidr(net));
    }
    Ok(out)
}

fn first_host(net: IpNet) -> String {
    net.hosts()
        .next()
        .map(|h| format!("{h}/{}", net.prefix_len()))
        .unwrap_or_default()
}

/// Formats a pool back to its written form.
pub fn format_pool(pool: &[PoolCidr]) -> String {
    pool.iter()
        .map(|p| p.0.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a comma-separated list of networks (allowed IPs).
pub fn parse_networks(
    field: &'static str,
    label: &str,
    raw: &str,
) -> Result<Vec<IpNet>, FieldError> {
    let parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(FieldError::new(
            field,
            format!("Enter the {label}, such as 10.10.0.0/24 or 0.0.0.0/0."),
        ));
    }
    parts
        .into_iter()
        .map(|p| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    FieldError::new(
                        field,
                        format!("\"{p}\" is not a network such as 10.10.0.0/24."),
                    )
                })
        })
        .collect()
}

/// Parses an optional comma-separated list of IP addresses (DNS servers).
pub fn parse_dns(field: &'static str, raw: &str) -> Result<Vec<IpAddr>, FieldError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<IpAddr>().map_err(|_| {
                FieldError::new(
                    field,
                    format!("\"{p}\" is not an IP address such as 10.10.0.1."),
                )
            })
        })
        .collect()
}

/// Parses an endpoint host: a DNS name or an IP address, no port.
pub fn parse_endpoint_host(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim_matches(' ');
    let bad = || {
        FieldError::new(field, "Enter the host name or IP address clients connect to, such as vpn.example.com (the port has its own field).")
    };
    if s.is_empty() || s.len() > 253 || has_control_chars(s) {
        return Err(bad());
    }
    if s.parse::<IpAddr>().is_ok() {
        return Ok(s.to_owned());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if s.trim_end_matches('.').split('.').all(label_ok) {
        Ok(s.to_lowercase())
    } else {
        Err(bad())
    }
}

/// `host:port`, with brackets around an IPv6 host.
pub fn endpoint(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

/// What a device's client config needs about one location.
#[derive(Debug, Clone)]
pub struct PeerConfig<'a> {
    /// The device's private key, or a placeholder.
    pub private_key: &'a str,
    /// The device's addresses in this location.
    pub addresses: &'a [IpAddr],
    /// DNS servers.
    pub dns: &'a [IpAddr],
    /// The gateway's public key.
    pub gateway_key: &'a str,
    /// Networks routed through the tunnel.
    pub allowed_ips: &'a [IpNet],
    /// `host:port`.
    pub endpoint: &'a str,
    /// Keepalive seconds (0: none).
    pub keepalive: u16,
}

fn host_net(ip: &IpAddr) -> IpNet {
    IpNet::from(*ip)
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders a device's `wg-quick` config (docs/security.md, item 20: only the keys listed there).
pub fn render_client_config(c: &PeerConfig<'_>) -> String {
    let mut out = String::from("[Interface]\n");
    let _ = writeln!(out, "PrivateKey = {}", c.private_key);
    let addresses: Vec<IpNet> = c.addresses.iter().map(host_net).collect();
    let _ = writeln!(out, "Address = {}", join(&addresses));
    if !c.dns.is_empty() {
        let _ = writeln!(out, "DNS = {}", join(c.dns));
    }
    out.push_str("\n[Peer]\n");
    let _ = writeln!(out, "PublicKey = {}", c.gateway_key);
    let _ = writeln!(out, "AllowedIPs = {}", join(c.allowed_ips));
    let _ = writeln!(out, "Endpoint = {}", c.endpoint);
    if c.keepalive > 0 {
        let _ = writeln!(out, "PersistentKeepalive = {}", c.keepalive);
    }
    out
}

/// One device as the gateway sees it.
#[derive(Debug, Clone)]
pub struct GatewayPeer {
    /// `username / device name`, for a comment line.
    pub label: String,
    /// The device's public key.
    pub public_key: String,
    /// The device's addresses in this location.
    pub addresses: Vec<IpAddr>,
}

/// Renders the gateway's `wg-quick` config: its interface and one peer per device.
pub fn render_gateway_config(
    private_key: &str,
    pool: &[PoolCidr],
    port: u16,
    peers: &[GatewayPeer],
) -> String {
    let mut out = String::from("[Interface]\n");
    let _ = writeln!(out, "PrivateKey = {private_key}");
    let _ = writeln!(out, "Address = {}", format_pool(pool));
    let _ = writeln!(out, "ListenPort = {port}");
    for peer in peers {
        out.push('\n');
        // Labels are validated names without line breaks; strip anything odd regardless.
        let label: String = peer.label.chars().filter(|c| !c.is_control()).collect();
        let _ = writeln!(out, "# {label}");
        out.push_str("[Peer]\n");
        let _ = writeln!(out, "PublicKey = {}", peer.public_key);
        let nets: Vec<IpNet> = peer.addresses.iter().map(host_net).collect();
        let _ = writeln!(out, "AllowedIPs = {}", join(&nets));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

    #[test]
    fn keys_from_wg_are_accepted_and_everything_else_refused() {
        assert!(WgKey::parse("k", KEY).is_ok());
        assert!(WgKey::parse("k", " HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= ").is_ok());
        let cases = [
            ("", "Enter a WireGuard"),
            ("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk=", "exactly 44"),
            ("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykwA", "ends in"),
            (
                "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk-=",
                "base64 characters",
            ),
            ("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykx=", "canonical"),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "all-zero"),
            (
                "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk\n=",
                "base64 characters",
            ),
            ("ĄIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk=", "exactly 44"),
        ];
        for (raw, message) in cases {
            let err = WgKey::parse("k", raw).expect_err(raw);
            assert!(err.message.contains(message), "{raw:?}: {}", err.message);
        }
    }

    #[test]
    fn pools_need_the_gateway_address() {
        let pool = parse_pool("a", "10.10.0.1/24, fd00::1/64").unwrap();
        assert_eq!(pool.len(), 2);
        assert_eq!(pool[0].gateway().to_string(), "10.10.0.1");
        assert_eq!(format_pool(&pool), "10.10.0.1/24, fd00::1/64");
        for bad in [
            "",
            "10.10.0.0/24",
            "10.10.0.255/24",
            "10.10.0.1",
            "10.10.0.1/31",
            "banana",
            "10.10.0.1/24,10.10.0.2/25",
            "fd00::/64",
        ] {
            assert!(parse_pool("a", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allocation_skips_network_gateway_broadcast_and_used() {
        let pool = parse_pool("a", "10.0.0.1/29").unwrap();
        let p = pool[0];
        let mut used = HashSet::new();
        let mut got = Vec::new();
        while let Some(ip) = p.first_free(&used) {
            used.insert(ip);
            got.push(ip.to_string());
        }
        assert_eq!(
            got,
            ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
        );
        let v6 = parse_pool("a", "fd00::1/64").unwrap()[0];
        let first = v6.first_free(&HashSet::new()).unwrap();
        assert_eq!(first.to_string(), "fd00::2");
        let gw_in_middle = parse_pool("a", "10.0.0.3/29").unwrap()[0];
        assert_eq!(
            gw_in_middle
                .first_free(&HashSet::new())
                .unwrap()
                .to_string(),
            "10.0.0.1"
        );
    }

    #[test]
    fn endpoints_and_networks() {
        assert_eq!(
            parse_endpoint_host("e", "VPN.example.com").unwrap(),
            "vpn.example.com"
        );
        assert!(parse_endpoint_host("e", "vpn.example.com:51820").is_err());
        assert!(parse_endpoint_host("e", "a b").is_err());
        assert_eq!(endpoint("2001:db8::1", 51820), "[2001:db8::1]:51820");
        assert_eq!(endpoint("vpn.example.com", 51820), "vpn.example.com:51820");
        let nets =
            parse_networks("n", "allowed IPs", "10.0.0.0/8, 192.168.1.7/24, 10.1.1.1").unwrap();
        assert_eq!(join(&nets), "10.0.0.0/8, 192.168.1.0/24, 10.1.1.1/32");
        assert!(parse_dns("d", "1.1.1.1, x").is_err());
        assert!(parse_dns("d", "").unwrap().is_empty());
    }

    #[test]
    fn client_config_has_only_the_allowed_keys() {
        let addrs: Vec<IpAddr> = vec!["10.10.0.2".parse().unwrap(), "fd00::2".parse().unwrap()];
        let dns: Vec<IpAddr> = vec!["10.10.0.1".parse().unwrap()];
        let allowed = parse_networks("n", "x", "10.10.0.0/24").unwrap();
        let text = render_client_config(&PeerConfig {
            private_key: KEY,
            addresses: &addrs,
            dns: &dns,
            gateway_key: KEY,
            allowed_ips: &allowed,
            endpoint: "vpn.example.com:51820",
            keepalive: 25,
        });
        assert_eq!(
            text,
            format!("[Interface]\nPrivateKey = {KEY}\nAddress = 10.10.0.2/32, fd00::2/128\nDNS = 10.10.0.1\n\n[Peer]\nPublicKey = {KEY}\nAllowedIPs = 10.10.0.0/24\nEndpoint = vpn.example.com:51820\nPersistentKeepalive = 25\n")
        );
        for banned in [
            "PreUp",
            "PostUp",
            "PreDown",
            "PostDown",
            "Table",
            "SaveConfig",
        ] {
            assert!(!text.contains(banned));
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;
        use std::net::{Ipv4Addr, Ipv6Addr};

        proptest! {
            #[test]
            fn v4_allocation_fills_the_pool_with_valid_distinct_addresses(
                base in any::<u32>(), prefix in 24u8..=30, gw_offset in 1u32..4, taken in proptest::collection::vec(any::<u8>(), 0..20)
            ) {
                let net = ipnet::Ipv4Net::new(Ipv4Addr::from(base), prefix).unwrap().trunc();
                let size = 1u32 << (32 - prefix);
                let gateway = Ipv4Addr::from(u32::from(net.network()) + gw_offset.min(size - 2));
                let pool = parse_pool("a", &format!("{gateway}/{prefix}")).unwrap()[0];
                let mut used: HashSet<IpAddr> = taken.iter()
                    .map(|t| IpAddr::V4(Ipv4Addr::from(u32::from(net.network()) + u32::from(*t) % size)))
                    .filter(|ip| pool.is_assignable(*ip))
                    .collect();
                let before = used.len();
                let mut given = 0;
                while let Some(ip) = pool.first_free(&used) {
                    prop_assert!(pool.is_assignable(ip));
                    prop_assert!(ip != IpAddr::V4(net.network()) && ip != IpAddr::V4(net.broadcast()) && ip != IpAddr::V4(gateway));
                    prop_assert!(used.insert(ip), "handed out twice: {}", ip);
                    given += 1;
                }
                // Every host address but the gateway's ends up used, none twice.
                prop_assert_eq!(before + given, (size - 3) as usize);
            }

            #[test]
            fn v6_allocation_never_repeats_or_hands_out_the_gateway(
                prefix in 64u8..=120, rounds in 1usize..50
            ) {
                let pool = parse_pool("a", &format!("fd00::1/{prefix}")).unwrap()[0];
                let mut used = HashSet::new();
                for _ in 0..rounds {
                    let ip = pool.first_free(&used).unwrap();
                    prop_assert!(pool.is_assignable(ip));
                    prop_assert!(ip != IpAddr::V6(Ipv6Addr::from(0xfd00_u128 << 112)));
                    prop_assert!(ip != pool.gateway());
                    prop_assert!(used.insert(ip));
                }
            }

            #[test]
            fn key_validation_accepts_exactly_the_canonical_nonzero_keys(bytes in any::<[u8; 32]>()) {
                let key = WgKey::from_bytes(&bytes).to_string();
                prop_assert_eq!(key_problem(&key).is_none(), bytes.iter().any(|b| *b != 0));
            }

            #[test]
            fn key_validation_never_panics(raw in "\\PC{0,60}") {
                let _ = key_problem(&raw);
            }
        }
    }
}
