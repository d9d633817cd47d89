"""The lab kit's runner: start a lab in Docker or as local processes, show what it does, stop it."""
