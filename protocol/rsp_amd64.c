/* rsp_amd64.c — gdb's amd64-linux register description: the table the 'g',
 * 'p' and expedited-register code index by regno, and the target.xml served
 * through qXfer:features:read.
 *
 * Names, bit sizes, types and groups follow gdb's own feature files
 * gdb/features/i386/64bit-core.xml, 64bit-sse.xml, 64bit-linux.xml and
 * 64bit-segments.xml, in the order gdbserver's amd64-linux description lists
 * them (core, sse, linux, segments; no AVX), so register numbers 0..59 are the
 * ones gdb uses: rip = 16, xmm0 = 40, orig_rax = 57, fs_base = 58.  The
 * document is one self-contained file (no xi:include), so a client never has
 * to fetch more annexes.  Offsets are the packed 'g' block gdbserver sends:
 * registers back to back at their natural sizes, 560 bytes in all.
 */
#include "rsp.h"

const struct rsp_reg_desc rsp_amd64_regs[RSP_AMD64_NREGS] = {
	{ "rax", 64, 0, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rbx", 64, 8, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rcx", 64, 16, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rdx", 64, 24, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rsi", 64, 32, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rdi", 64, 40, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rbp", 64, 48, "data_ptr", NULL, "org.gnu.gdb.i386.core" },
	{ "rsp", 64, 56, "data_ptr", NULL, "org.gnu.gdb.i386.core" },
	{ "r8", 64, 64, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r9", 64, 72, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r10", 64, 80, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r11", 64, 88, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r12", 64, 96, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r13", 64, 104, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r14", 64, 112, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "r15", 64, 120, "int64", NULL, "org.gnu.gdb.i386.core" },
	{ "rip", 64, 128, "code_ptr", NULL, "org.gnu.gdb.i386.core" },
	{ "eflags", 32, 136, "i386_eflags", NULL, "org.gnu.gdb.i386.core" },
	{ "cs", 32, 140, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "ss", 32, 144, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "ds", 32, 148, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "es", 32, 152, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "fs", 32, 156, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "gs", 32, 160, "int32", NULL, "org.gnu.gdb.i386.core" },
	{ "st0", 80, 164, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st1", 80, 174, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st2", 80, 184, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st3", 80, 194, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st4", 80, 204, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st5", 80, 214, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st6", 80, 224, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "st7", 80, 234, "i387_ext", NULL, "org.gnu.gdb.i386.core" },
	{ "fctrl", 32, 244, "int", "float", "org.gnu.gdb.i386.core" },
	{ "fstat", 32, 248, "int", "float", "org.gnu.gdb.i386.core" },
	{ "ftag", 32, 252, "int", "float", "org.gnu.gdb.i386.core" },
	{ "fiseg", 32, 256, "int", "float", "org.gnu.gdb.i386.core" },
	{ "fioff", 32, 260, "int", "float", "org.gnu.gdb.i386.core" },
	{ "foseg", 32, 264, "int", "float", "org.gnu.gdb.i386.core" },
	{ "fooff", 32, 268, "int", "float", "org.gnu.gdb.i386.core" },
	{ "fop", 32, 272, "int", "float", "org.gnu.gdb.i386.core" },
	{ "xmm0", 128, 276, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm1", 128, 292, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm2", 128, 308, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm3", 128, 324, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm4", 128, 340, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm5", 128, 356, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm6", 128, 372, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm7", 128, 388, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm8", 128, 404, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm9", 128, 420, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm10", 128, 436, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm11", 128, 452, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm12", 128, 468, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm13", 128, 484, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm14", 128, 500, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "xmm15", 128, 516, "vec128", NULL, "org.gnu.gdb.i386.sse" },
	{ "mxcsr", 32, 532, "i386_mxcsr", "vector", "org.gnu.gdb.i386.sse" },
	{ "orig_rax", 64, 536, "int", NULL, "org.gnu.gdb.i386.linux" },
	{ "fs_base", 64, 544, "int", NULL, "org.gnu.gdb.i386.segments" },
	{ "gs_base", 64, 552, "int", NULL, "org.gnu.gdb.i386.segments" },
};

#define REGBLOCK_SIZE 560
_Static_assert(RSP_AMD64_NREGS == 60, "amd64-linux has 60 registers");

size_t rsp_amd64_regblock_size(void)
{
	return REGBLOCK_SIZE;
}

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"  <architecture>i386:x86-64</architecture>\n"
	"  <osabi>GNU/Linux</osabi>\n"
	"  <feature name=\"org.gnu.gdb.i386.core\">\n"
	"    <flags id=\"i386_eflags\" size=\"4\">\n"
	"      <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
	"      <field name=\"\" start=\"1\" end=\"1\"/>\n"
	"      <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
	"      <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
	"      <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
	"      <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
	"      <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
	"      <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
	"      <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
	"      <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
	"      <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
	"      <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
	"      <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
	"      <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
	"      <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
	"      <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
	"      <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
	"    </flags>\n"
	"    <reg name=\"rax\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"    <reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"    <reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"    <reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"    <reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
	"    <reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"    <reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"    <reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"    <reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"  </feature>\n"
	"  <feature name=\"org.gnu.gdb.i386.sse\">\n"
	"    <vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/>\n"
	"    <vector id=\"v8h\" type=\"ieee_half\" count=\"8\"/>\n"
	"    <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"    <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"    <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
	"    <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
	"    <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
	"    <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	"    <union id=\"vec128\">\n"
	"      <field name=\"v8_bfloat16\" type=\"v8bf16\"/>\n"
	"      <field name=\"v8_half\" type=\"v8h\"/>\n"
	"      <field name=\"v4_float\" type=\"v4f\"/>\n"
	"      <field name=\"v2_double\" type=\"v2d\"/>\n"
	"      <field name=\"v16_int8\" type=\"v16i8\"/>\n"
	"      <field name=\"v8_int16\" type=\"v8i16\"/>\n"
	"      <field name=\"v4_int32\" type=\"v4i32\"/>\n"
	"      <field name=\"v2_int64\" type=\"v2i64\"/>\n"
	"      <field name=\"uint128\" type=\"uint128\"/>\n"
	"    </union>\n"
	"    <flags id=\"i386_mxcsr\" size=\"4\">\n"
	"      <field name=\"IE\" start=\"0\" end=\"0\"/>\n"
	"      <field name=\"DE\" start=\"1\" end=\"1\"/>\n"
	"      <field name=\"ZE\" start=\"2\" end=\"2\"/>\n"
	"      <field name=\"OE\" start=\"3\" end=\"3\"/>\n"
	"      <field name=\"UE\" start=\"4\" end=\"4\"/>\n"
	"      <field name=\"PE\" start=\"5\" end=\"5\"/>\n"
	"      <field name=\"DAZ\" start=\"6\" end=\"6\"/>\n"
	"      <field name=\"IM\" start=\"7\" end=\"7\"/>\n"
	"      <field name=\"DM\" start=\"8\" end=\"8\"/>\n"
	"      <field name=\"ZM\" start=\"9\" end=\"9\"/>\n"
	"      <field name=\"OM\" start=\"10\" end=\"10\"/>\n"
	"      <field name=\"UM\" start=\"11\" end=\"11\"/>\n"
	"      <field name=\"PM\" start=\"12\" end=\"12\"/>\n"
	"      <field name=\"FZ\" start=\"15\" end=\"15\"/>\n"
	"    </flags>\n"
	"    <reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>\n"
	"    <reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
	"    <reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>\n"
	"  </feature>\n"
	"  <feature name=\"org.gnu.gdb.i386.linux\">\n"
	"    <reg name=\"orig_rax\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n"
	"  </feature>\n"
	"  <feature name=\"org.gnu.gdb.i386.segments\">\n"
	"    <reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"    <reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"  </feature>\n"
	"</target>\n";

const char *rsp_amd64_target_xml(void)
{
	return target_xml;
}
