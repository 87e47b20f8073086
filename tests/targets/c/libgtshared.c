/* libgtshared: the shared library the integration scenarios' C target (gtcprog)
 * links against, so `info sharedlibrary` and a breakpoint inside a library
 * (resolved once the dynamic loader has mapped it) can be checked through the stub. */

/* Calls made into the library; gdb prints it to prove library data is readable. */
int gtshared_calls = 0;

/* Returns a + b and counts the call. */
int gtshared_add(int a, int b)
{
	gtshared_calls++;
	return a + b;
}

/* Returns the library's name, printed by gtcprog's first line. */
const char *gtshared_name(void)
{
	return "libgtshared";
}
