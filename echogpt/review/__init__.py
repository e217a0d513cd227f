"""The copilot's records: tables, the database, accounts and permissions, the workflow state machine,
the store, adapter versions and the feedback export."""
