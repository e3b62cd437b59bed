"""Artifact security: the artifact store every stage writes through, encryption, keys, manifests."""
