//! Spin HTTP component: the static site.
//!
//! Serves the files Spin mounts at `/` (see `spin.toml`) through
//! [`vroom_static_site::serve`], configured by the `relay_url` and `hsts`
//! variables. The path comes from the request URI (the component is routed
//! at `/...`, so that is the site path), never from a header: a
//! client may send its own `spin-path-info`, and a Spin host passes it on
//! before (not instead of) its own.

use bytes::Bytes;
use spin_sdk::http::{
    FullBody, HeaderMap, HeaderName, HeaderValue, IntoResponse, Request, StatusCode,
};
use vroom_static_site::{Config, Dir, Response};

/// Where Spin mounts the site's files inside the component.
const MOUNT_ROOT: &str = "/";

/// Handles one HTTP request. Exported as `wasi:http/handler` on wasm32 only:
/// a native cdylib cannot link that export name, and natively the crate
/// exists just to be checked and tested.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_service)]
pub async fn handle(request: Request) -> impl IntoResponse {
    let headers = request.headers();
    let path = request.uri().path();
    let if_none_match = joined(headers, "if-none-match");
    let accept_encoding = joined(headers, "accept-encoding");
    let site_request = vroom_static_site::Request {
        method: request.method().as_str(),
        path,
        if_none_match: Some(if_none_match.as_str()).filter(|v| !v.is_empty()),
        accept_encoding: Some(accept_encoding.as_str()).filter(|v| !v.is_empty()),
    };
    let response = match config().await {
        Ok(config) => vroom_static_site::serve(&config, &site_request, &Dir::new(MOUNT_ROOT)),
        Err(error) => {
            eprintln!("static site misconfigured: {error}");
            vroom_static_site::internal_error(site_request.method)
        }
    };
    to_http(response)
}

/// Every value of header `name`, joined with `, ` (empty if absent).
fn joined(headers: &spin_sdk::http::HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads and validates the component's variables.
async fn config() -> Result<Config, String> {
    let get = async |name: &str| {
        spin_sdk::variables::get(name)
            .await
            .map_err(|e| format!("variable {name}: {e}"))
    };
    let relay_url = get("relay_url").await?;
    let hsts = get("hsts").await?;
    Config::from_vars(&relay_url, &hsts).map_err(|e| e.to_string())
}

/// Converts the site's response into one Spin can send.
fn to_http(response: Response) -> (StatusCode, HeaderMap, FullBody<Bytes>) {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    HeaderMap::new(),
                    FullBody::default(),
                );
            }
        }
    }
    (status, headers, FullBody::new(Bytes::from(response.body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_response(headers: Vec<vroom_static_site::Header>) -> Response {
        Response {
            status: 404,
            headers,
            body: b"Not found\n".to_vec(),
        }
    }

    #[test]
    fn converts_status_headers_and_body() {
        let (status, headers, _) = to_http(site_response(vec![
            ("x-frame-options", "DENY".to_owned()),
            ("vary", "a".to_owned()),
            ("vary", "b".to_owned()),
        ]));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers.get_all("vary").iter().count(), 2);
    }

    #[test]
    fn unsendable_header_is_a_bare_500() {
        for headers in [
            vec![("x-ok", "line\nbreak".to_owned())],
            vec![("Bad Name", "v".to_owned())],
        ] {
            let (status, headers, _) = to_http(site_response(headers));
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(headers.is_empty());
        }
    }
}
