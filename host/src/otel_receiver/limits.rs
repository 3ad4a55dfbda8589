//! The bounds a request is held to before anything decodes it: the body's
//! size on the wire and, for gzip, its size once inflated (a gzip bomb stops
//! at the bound, it is never inflated whole).

use http_body_util::BodyExt;
use std::io::Read;

/// Requests larger than this (on the wire or inflated) are refused:
/// HTTP 413, gRPC RESOURCE_EXHAUSTED.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Over the bound, on the wire or inflated.
    TooLarge,
    /// Not valid gzip, or the connection broke.
    Broken(String),
}

/// Read the whole body, refusing it as soon as it passes `limit` bytes.
pub async fn read<B>(body: B, limit: usize) -> Result<bytes::Bytes, BodyError>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Broken(e.to_string())),
    }
}

/// Inflate a gzip body, refusing it as soon as it passes `limit` bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::with_capacity((body.len() * 4).min(limit));
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Broken(format!("gzip: {e}")))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_is_inflated_up_to_the_bound_and_no_further() {
        assert_eq!(gunzip(&gz(b"hello"), 5).unwrap(), b"hello");
        assert_eq!(gunzip(&gz(b"hello!"), 5), Err(BodyError::TooLarge));
        // 64 MiB of zeros compress to ~64 KiB: refused at 1 MiB without
        // inflating the rest.
        let bomb = gz(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 1 << 20, "{}", bomb.len());
        assert_eq!(gunzip(&bomb, 1 << 20), Err(BodyError::TooLarge));
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(BodyError::Broken(_))
        ));
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused() {
        let body = http_body_util::Full::new(bytes::Bytes::from(vec![1u8; 100]));
        assert_eq!(read(body, 99).await, Err(BodyError::TooLarge));
        let body = http_body_util::Full::new(bytes::Bytes::from(vec![1u8; 100]));
        assert_eq!(read(body, 100).await.unwrap().len(), 100);
    }
}
