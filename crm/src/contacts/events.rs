//! What a contact's changes announce: `contact.created`, `.updated` and `.deleted`
//! (`Contacts::CREATED`, ...).

platform::audited!(
    /// The contact as the audit trail and the event log know it.
    pub Contacts: Contact = "contact" in entity::tenant::contact
);
