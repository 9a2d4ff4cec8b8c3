"""HTTP handlers: each translates a request into calls on storage, log or hub, and back."""
