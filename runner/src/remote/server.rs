//! The gRPC service in front of an [`Executor`] (the local [`Runner`](crate::Runner)
//! in production): what `eduscale runner serve` runs.
//!
//! Every call is answered with status OK and a typed outcome: a bad request
//! (unknown language, missing user, oversized source or input) becomes
//! [`RunError::Invalid`], a language this runner lacks [`RunError::Unavailable`],
//! a full queue [`RunError::Busy`]. The size checks are the executor's own
//! (`Runner::validate`); the transport caps a message at [`MAX_MESSAGE_BYTES`],
//! so an absurd request is refused before it is read whole.

use super::{MAX_MESSAGE_BYTES, pb, wire};
use crate::RunError;
use crate::queue::Executor;
use pb::runner_server::{Runner as RunnerService, RunnerServer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// Serves `executor` on `listener` until `shutdown` completes, then lets calls
/// in progress finish.
pub async fn serve(
    listener: TcpListener,
    executor: Arc<dyn Executor>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let service = RunnerServer::new(Service { executor })
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tonic::transport::Server::builder()
        // A client that vanished without closing its connection (a crashed
        // web server, a cut network) is noticed and its calls dropped.
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_nodelay(true)
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}

struct Service {
    executor: Arc<dyn Executor>,
}

#[tonic::async_trait]
impl RunnerService for Service {
    async fn run(
        &self,
        request: Request<pb::RunRequest>,
    ) -> Result<Response<pb::RunReply>, Status> {
        let outcome = match wire::parse_run_request(request.into_inner()) {
            Ok((user, request)) => self.executor.execute(&user, request).await,
            Err(invalid) => Err(invalid),
        };
        if let Err(RunError::Host(why)) = &outcome {
            tracing::error!(%why, "run failed on the host");
        }
        Ok(Response::new(wire::run_reply(
            outcome,
            self.executor.occupancy(),
        )))
    }

    async fn languages(
        &self,
        _: Request<pb::LanguagesRequest>,
    ) -> Result<Response<pb::LanguagesReply>, Status> {
        Ok(Response::new(wire::languages(self.executor.languages())))
    }

    async fn load(&self, _: Request<pb::LoadRequest>) -> Result<Response<pb::Load>, Status> {
        Ok(Response::new(wire::load(
            self.executor.occupancy().unwrap_or_default(),
        )))
    }
}
