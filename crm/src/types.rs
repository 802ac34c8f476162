//! The CRM's closed vocabularies, shared by the services and the GraphQL API. Each is stored
//! as its lowercase name.

platform::stored_enum!(
    /// Where a contact came from.
    ContactSource {
        Website => "website",
        Referral => "referral",
        Phone => "phone",
        Email => "email",
        Whatsapp => "whatsapp",
        Import => "import",
        Other => "other",
    }
);

platform::stored_enum!(
    /// Where a contact stands: leads become customers or are lost.
    ContactStatus {
        New => "new",
        Contacted => "contacted",
        Qualified => "qualified",
        Customer => "customer",
        Lost => "lost",
    }
);

platform::stored_enum!(
    /// What a stage means for the deals in it.
    StageKind {
        /// Deals in progress.
        Open => "open",
        /// Deals closed as won.
        Won => "won",
        /// Deals closed as lost.
        Lost => "lost",
    }
);

platform::stored_enum!(
    OpportunityStatus {
        Open => "open",
        Won => "won",
        Lost => "lost",
    }
);

platform::stored_enum!(
    ActivityKind {
        Call => "call",
        Email => "email",
        Meeting => "meeting",
        Whatsapp => "whatsapp",
        Note => "note",
        Task => "task",
    }
);

platform::stored_enum!(
    /// Headcount bands.
    CompanySize {
        /// 1-10 people.
        Micro => "micro",
        /// 11-50 people.
        Small => "small",
        /// 51-250 people.
        Medium => "medium",
        /// 251-1000 people.
        Large => "large",
        /// More than 1000 people.
        Enterprise => "enterprise",
    }
);

impl From<StageKind> for OpportunityStatus {
    fn from(kind: StageKind) -> Self {
        match kind {
            StageKind::Open => Self::Open,
            StageKind::Won => Self::Won,
            StageKind::Lost => Self::Lost,
        }
    }
}
