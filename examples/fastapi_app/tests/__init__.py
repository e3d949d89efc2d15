"""The example service's tests, against the local stack."""
