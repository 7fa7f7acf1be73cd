// Every test here uses the shared test support (RunningGateway, TestDestination, signers, Repo).
@_exported import InletTesting
