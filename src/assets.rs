//! Static files embedded in the binary, served under content-hashed URLs.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Everything under `assets/`.
#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
pub struct Assets;

fn hashes() -> &'static HashMap<String, String> {
    static HASHES: OnceLock<HashMap<String, String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let file = Assets::get(&name)?;
                let digest = hex::encode(Sha256::digest(&file.data));
                Some((name.into_owned(), digest[..16].to_owned()))
            })
            .collect()
    })
}

/// The URL of an asset: `/assets/<hash>/<path>`, cacheable for a year because the hash
/// changes whenever the content does.
pub fn url(path: &str) -> String {
    match hashes().get(path) {
        Some(hash) => format!("/assets/{hash}/{path}"),
        None => format!("/assets/0/{path}"),
    }
}

/// The content hash of an asset, if it exists.
pub fn hash_of(path: &str) -> Option<&'static str> {
    hashes().get(path).map(String::as_str)
}
