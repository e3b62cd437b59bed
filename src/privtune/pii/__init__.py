"""PII and secrets: detection (`scan`), de-identification and segmentation (`protect`).

Import-light on purpose: the config module is imported by `privtune.config`, so nothing heavy
(spaCy, phonenumbers metadata) loads until a scan actually runs.
"""
