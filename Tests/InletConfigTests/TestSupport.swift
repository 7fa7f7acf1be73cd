// Every test here uses the shared test support (Repo, makeRequest, signers).
@_exported import InletTesting
