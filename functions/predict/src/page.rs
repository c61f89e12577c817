//! The page for people, served at `GET /`, and its Content-Security-Policy.

use std::sync::LazyLock;

/// The page for people, served at `GET /`.
pub const PAGE: &str = include_str!("../page/index.html");

/// The page's Content-Security-Policy: its inline script and style are allowed by
/// their SHA-256 (CSP Level 3 hash sources), so no other inline code runs, and no
/// other site may frame it.
pub static PAGE_CSP: LazyLock<String> = LazyLock::new(|| page_csp(PAGE));

fn page_csp(page: &str) -> String {
    let sources = |tag: &str| {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut hashes = Vec::new();
        let mut rest = page;
        while let Some(start) = rest.find(&open) {
            let body = &rest[start + open.len()..];
            let end = body.find(&close).unwrap_or(body.len());
            hashes.push(format!("'sha256-{}'", sha256_base64(&body[..end])));
            rest = &body[end..];
        }
        if hashes.is_empty() {
            "'none'".to_string()
        } else {
            hashes.join(" ")
        }
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        sources("script"),
        sources("style")
    )
}

fn sha256_base64(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_policy_allows_its_own_inline_code_by_hash_and_nothing_else() {
        let csp = PAGE_CSP.as_str();
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        // A known digest: SHA-256 of "alert(1)", base64.
        assert_eq!(
            sha256_base64("alert(1)"),
            "bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="
        );
        let page = "<style>p{}</style><script>go()</script><script>alert(1)</script>";
        let csp = page_csp(page);
        assert!(
            csp.contains("script-src 'sha256-")
                && csp.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{csp}"
        );
        // One hash per inline block: a script added to the page is not allowed by the
        // policy of the page without it.
        let without = page_csp("<style>p{}</style><script>go()</script>");
        assert!(!without.contains("bhHHL3z2"), "{without}");
        assert_eq!(page_csp("<p>no code</p>").matches("'none'").count(), 6);
    }
}
