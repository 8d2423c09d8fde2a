//! TLS for one registry: the system's roots plus the CAs in
//! `/etc/containers/certs.d/HOST:PORT/*.crt` and `/etc/docker/certs.d/HOST:PORT/*.crt`
//! (`MDRUN_CERTS_DIRS`, colon-separated, replaces those two: tests), or no verification
//! at all with `--tls-verify=false`.

use super::RegistryError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

const CERTS_DIRS: [&str; 2] = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

fn certs_dirs() -> Vec<PathBuf> {
    match std::env::var_os("MDRUN_CERTS_DIRS") {
        Some(v) => std::env::split_paths(&v).collect(),
        None => CERTS_DIRS.iter().map(PathBuf::from).collect(),
    }
}

fn provider() -> Arc<CryptoProvider> {
    // `ring` (no C toolchain beyond cc, no cmake); its deprecation is about post-quantum
    // key exchange, which registries do not offer yet either.
    #[allow(deprecated)]
    Arc::new(ring::default_provider())
}

/// The client config for `host` (`HOST[:PORT]`, as certs.d names its directories).
pub(crate) fn config(host: &str, insecure: bool) -> Result<Arc<ClientConfig>, RegistryError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::failed("tls setup for", host, e.to_string()))?;
    if insecure {
        return Ok(Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
                .with_no_client_auth(),
        ));
    }
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped, as every TLS client does.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for base in certs_dirs() {
        let dir = base.join(host);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "crt") {
                continue;
            }
            let bad = |reason: String| RegistryError::Config {
                path: path.clone(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(&path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no PEM certificate in it".to_string()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
    }
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// `--tls-verify=false`: any certificate is taken (signatures are still checked, so the
/// handshake itself stays sound).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
