package sync_test

// childEnv, when set, makes the test binary a child process of a fault
// test instead of running tests; its value names what the child does.
const childEnv = "FRAMECAST_SYNC_TEST_CHILD"

func child(mode string) int {
	panic("unknown child mode " + mode)
}
