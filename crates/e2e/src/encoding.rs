//! Base64url (RFC 4648 §5, no padding, canonical) for the fixed-size values
//! that appear in links, API calls and storage.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

/// Why a fixed-size base64url value did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum B64Error {
    /// Not the number of characters that `N` bytes encode to.
    Length,
    /// Not canonical base64url without padding.
    Encoding,
}

/// Encodes bytes as base64url without padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Number of characters of `n` bytes in base64url without padding.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Decodes exactly `N` bytes from canonical base64url without padding.
///
/// The intermediate buffer is zeroized, as the value may be a secret.
pub(crate) fn decode_fixed<const N: usize>(text: &str) -> Result<[u8; N], B64Error> {
    if text.len() != encoded_len(N) {
        return Err(B64Error::Length);
    }
    let decoded = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| B64Error::Encoding)?,
    );
    <[u8; N]>::try_from(decoded.as_slice()).map_err(|_| B64Error::Length)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lengths() {
        assert_eq!(encoded_len(16), 22);
        assert_eq!(encoded_len(32), 43);
    }

    #[test]
    fn rejects_non_canonical_and_padding() {
        let good = encode(&[0xff; 16]);
        assert_eq!(decode_fixed::<16>(&good), Ok([0xff; 16]));
        // Last character carries 2 bits of data and 4 zero bits; flipping a zero bit is non-canonical.
        let mut bad = good.clone();
        bad.pop();
        bad.push('x');
        assert_eq!(decode_fixed::<16>(&bad), Err(B64Error::Encoding));
        assert_eq!(
            decode_fixed::<16>(&format!("{good}==")),
            Err(B64Error::Length)
        );
        let std_alphabet = good.replace('_', "/");
        assert_eq!(decode_fixed::<16>(&std_alphabet), Err(B64Error::Encoding));
    }
}
