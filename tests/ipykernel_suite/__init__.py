# ipykernel's own message-spec tests, run against xaccel (see README.md).
