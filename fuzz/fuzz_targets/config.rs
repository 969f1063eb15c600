//! The config renderer fed with whatever passes the field parsers: the output must hold only
//! the allowed keys, one per line, so no field can smuggle in PostUp or a second section.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::domain::wireguard::{endpoint, parse_dns, parse_endpoint_host, parse_networks, parse_pool, render_client_config, PeerConfig};

const ALLOWED: [&str; 8] = ["PrivateKey", "Address", "DNS", "PublicKey", "AllowedIPs", "Endpoint", "PersistentKeepalive", "ListenPort"];

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut fields = s.split('\u{1f}');
    let (Some(pool), Some(host), Some(allowed), Some(dns)) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
        return;
    };
    let (Ok(pool), Ok(host), Ok(allowed), Ok(dns)) =
        (parse_pool("a", pool), parse_endpoint_host("e", host), parse_networks("n", "x", allowed), parse_dns("d", dns))
    else {
        return;
    };
    let addresses: Vec<std::net::IpAddr> = pool.iter().filter_map(|c| c.first_free(&Default::default())).collect();
    let text = render_client_config(&PeerConfig {
        private_key: "YOUR_PRIVATE_KEY",
        addresses: &addresses,
        dns: &dns,
        gateway_key: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
        allowed_ips: &allowed,
        endpoint: &endpoint(&host, 51820),
        keepalive: 25,
    });
    for line in text.lines() {
        let ok = line.is_empty()
            || line == "[Interface]"
            || line == "[Peer]"
            || line.split_once(" = ").is_some_and(|(key, _)| ALLOWED.contains(&key));
        assert!(ok, "unexpected line {line:?} in\n{text}");
    }
    assert_eq!(text.matches("[Peer]").count(), 1);
    assert_eq!(text.matches("[Interface]").count(), 1);
});
