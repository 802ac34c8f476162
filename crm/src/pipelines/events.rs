//! What the changes of pipelines and their stages announce: `pipeline.created`, `.updated`
//! and `.deleted` (`Pipelines::CREATED`, ...), and the same for `stage`.

platform::audited!(
    /// The pipeline as the audit trail and the event log know it.
    pub Pipelines: Pipeline = "pipeline" in entity::tenant::pipeline
);

platform::audited!(
    /// A pipeline's stage as the audit trail and the event log know it.
    pub Stages: Stage = "stage" in entity::tenant::pipeline_stage
);
