//! What a company's changes announce: `company.created`, `.updated` and `.deleted`
//! (`Companies::CREATED`, ...).

platform::audited!(
    /// The company as the audit trail and the event log know it.
    pub Companies: Company = "company" in entity::tenant::company
);
