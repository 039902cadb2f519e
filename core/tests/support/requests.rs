//! Client requests the engine tests send, built one way.

use allocdb_core::{ClientId, ClientRequest, Command, OperationId, ResourceId};

/// Client 1 creates resource `id` under operation `id`.
pub fn create(id: u128) -> ClientRequest {
    ClientRequest {
        operation_id: OperationId(id),
        client_id: ClientId(1),
        command: Command::CreateResource {
            resource_id: ResourceId(id),
        },
    }
}
