"""Orchestrator integrations, each an optional extra: `microseg[dagster]` for
microseg.orchestration.dagster. Nothing here is imported by the core package."""
