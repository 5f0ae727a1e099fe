//! `containers-files`: copy files into a container (the host builds the tar) and out of
//! one (the host reads the engine's tar stream within a budget). Moderate tier.

use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::ownership::ObjectKind;
use super::tar_archive::{self, MAX_ENTRIES};
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_files::{
    ArchiveContents, CopySummary, FileEntry, Host,
};
use crate::capabilities::Capability;

const DEFAULT_READ_BYTES: u32 = 256 << 10;
const MAX_READ_BYTES: u32 = 8 << 20;
/// Room for tar headers (and PAX/long-name records) beside the file contents when
/// reading the raw stream: a few blocks per entry.
const HEADER_ALLOWANCE: usize = MAX_ENTRIES * 3 * 512 + 1024;

impl Host for CallAccess {
    async fn copy_to(
        &mut self,
        target: String,
        path: String,
        files: Vec<FileEntry>,
    ) -> Result<CopySummary, DockerError> {
        let docker = self.authorize(Capability::ContainersFiles).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let destination = tar_archive::container_path(&path)?;
        let built = tar_archive::build(&files)?;
        // Refuse to replace an existing directory with a file or the reverse: a copy
        // adds and overwrites files, it never swaps a tree away.
        let options = UploadToContainerOptionsBuilder::new()
            .path(destination)
            .no_overwrite_dir_non_dir("true")
            .build();
        engine_call(
            &self.docker,
            docker.upload_to_container(target, Some(options), bollard::body_full(built.tar.into())),
        )
        .await?;
        Ok(CopySummary {
            path,
            files: built.files,
            directories: built.directories,
            bytes: built.bytes,
        })
    }

    async fn copy_from(
        &mut self,
        target: String,
        path: String,
        max_bytes: u32,
    ) -> Result<ArchiveContents, DockerError> {
        let docker = self.authorize(Capability::ContainersFiles).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let source = tar_archive::container_path(&path)?;
        let max_bytes = match max_bytes {
            0 => DEFAULT_READ_BYTES,
            bytes if bytes > MAX_READ_BYTES => {
                return Err(DockerError::Invalid(format!(
                    "`max-bytes` is at most {MAX_READ_BYTES}"
                )));
            }
            bytes => bytes,
        } as usize;

        // Read the stream into a buffer that never exceeds the budget plus headers:
        // a path may name a tree of any size.
        let raw_cap = max_bytes + HEADER_ALLOWANCE;
        let options = DownloadFromContainerOptionsBuilder::new()
            .path(source)
            .build();
        let mut stream = docker.download_from_container(target, Some(options));
        let mut raw: Vec<u8> = Vec::new();
        let mut cut = false;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    let mapped = map_error(err);
                    if matches!(mapped, DockerError::Unavailable(_)) {
                        self.docker.reset().await;
                    }
                    return Err(mapped);
                }
            };
            let room = raw_cap - raw.len();
            if chunk.len() > room {
                raw.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            raw.extend_from_slice(&chunk);
        }
        tar_archive::read(&raw, max_bytes, cut)
    }
}
