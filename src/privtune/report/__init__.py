"""The privacy report: one self-contained HTML page plus JSON for compliance reviewers."""
