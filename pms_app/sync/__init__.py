"""Reconciliation with the CRM: tombstones, the PMS's side of digests and manifests, the
reconciler that compares them and repairs drift, its runs, its lease and its schedule."""
