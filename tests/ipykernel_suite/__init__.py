# ipykernel's own tests, run against xaccel (see README.md).
