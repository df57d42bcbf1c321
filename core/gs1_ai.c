/*
 * gs1_ai.c - the GS1 Application Identifier table and its lookup.
 *
 * Spec section 1 skips the AIs it does not use but must know every AI the
 * GS1 General Specifications assign, with its length and character set, to
 * find where the next element starts and to reject unassigned AIs.
 *
 * The table below was transcribed, one row per dictionary entry, from the
 * GS1 Barcode Syntax Dictionary (gs1-syntax-dictionary.txt in
 * https://github.com/gs1/gs1-syntax-dictionary, commit ff2eb4bf, 2026-07),
 * Copyright (c) 2020-2021 BWIPP project, (c) 2020-2021 Zint Project,
 * (c) 2021-2025 GS1 AISBL, licensed under the Apache License, Version 2.0
 * (http://www.apache.org/licenses/LICENSE-2.0).  Kept from it: the AI
 * (ranges such as 3100-3105 as one row; the run 91-99 as one row per AI so
 * that every row has one two-digit prefix), the "*" flag (predefined
 * length), and each component's type, length, optionality and date linter.
 * Dropped: the other linters (check digits other than AI 01's, ISO codes,
 * times, ...) and the pairing rules (req=, ex=), because spec section 1
 * checks skipped AIs for length and character set only (and dates, since an
 * impossible date is an error anywhere).
 *
 * Rows are in lexical AI order, so each two-digit prefix owns one run of
 * rows; GS1 assigns AI lengths by that prefix (e.g. 31nn are 4 digits).
 */
#include <stddef.h>

#include "gs1_ai.h"

#define FIX 1
#define VAR 0
#define C(set, lo, hi, opt, lint) \
	{ CODE_CSET_ ## set, lo, hi, opt, CODE_LINT_ ## lint }
#define N(n)		C(N, n, n, 0, NONE)
#define X(n)		C(X, n, n, 0, NONE)
#define NV(m)		C(N, 1, m, 0, NONE)
#define XV(m)		C(X, 1, m, 0, NONE)
#define YV(m)		C(Y, 1, m, 0, NONE)
#define ZV(m)		C(Z, 1, m, 0, NONE)
#define OPT_N(n)	C(N, n, n, 1, NONE)
#define OPT_X(n)	C(X, n, n, 1, NONE)
#define OPT_NV(m)	C(N, 1, m, 1, NONE)
#define OPT_XV(m)	C(X, 1, m, 1, NONE)
#define YYMMD0		C(N, 6, 6, 0, YYMMD0)
#define YYMMDD		C(N, 6, 6, 0, YYMMDD)
#define OPT_YYMMDD	C(N, 6, 6, 1, YYMMDD)
#define YYYYMMDD	C(N, 8, 8, 0, YYYYMMDD)

/* lo, hi, AI digits, predefined length, data field parts */
static const struct code_gs1_ai code_gs1_table[] = {
	{ 0, 0, 2, FIX, { N(18) } },			/* 00 SSCC */
	{ 1, 1, 2, FIX, { N(14) } },			/* 01 GTIN */
	{ 2, 2, 2, FIX, { N(14) } },			/* 02 CONTENT */
	{ 3, 3, 2, FIX, { N(14) } },			/* 03 MTO GTIN */
	{ 10, 10, 2, VAR, { XV(20) } },			/* 10 BATCH/LOT */
	{ 11, 11, 2, FIX, { YYMMD0 } },			/* 11 PROD DATE */
	{ 12, 12, 2, FIX, { YYMMD0 } },			/* 12 DUE DATE */
	{ 13, 13, 2, FIX, { YYMMD0 } },			/* 13 PACK DATE */
	{ 15, 15, 2, FIX, { YYMMD0 } },			/* 15 BEST BEFORE or BEST BY */
	{ 16, 16, 2, FIX, { YYMMD0 } },			/* 16 SELL BY */
	{ 17, 17, 2, FIX, { YYMMD0 } },			/* 17 USE BY or EXPIRY */
	{ 20, 20, 2, FIX, { N(2) } },			/* 20 VARIANT */
	{ 21, 21, 2, VAR, { XV(20) } },			/* 21 SERIAL */
	{ 22, 22, 2, VAR, { XV(20) } },			/* 22 CPV */
	{ 235, 235, 3, VAR, { XV(28) } },		/* 235 TPX */
	{ 240, 240, 3, VAR, { XV(30) } },		/* 240 ADDITIONAL ID */
	{ 241, 241, 3, VAR, { XV(30) } },		/* 241 CUST. PART No. */
	{ 242, 242, 3, VAR, { NV(6) } },		/* 242 MTO VARIANT */
	{ 243, 243, 3, VAR, { XV(20) } },		/* 243 PCN */
	{ 250, 250, 3, VAR, { XV(30) } },		/* 250 SECONDARY SERIAL */
	{ 251, 251, 3, VAR, { XV(30) } },		/* 251 REF. TO SOURCE */
	{ 253, 253, 3, VAR, { N(13), OPT_XV(17) } },	/* 253 GDTI */
	{ 254, 254, 3, VAR, { XV(20) } },		/* 254 GLN EXTENSION COMPONENT */
	{ 255, 255, 3, VAR, { N(13), OPT_NV(12) } },	/* 255 GCN */
	{ 30, 30, 2, VAR, { NV(8) } },			/* 30 VAR. COUNT */
	{ 3100, 3105, 4, FIX, { N(6) } },		/* 3100-3105 NET WEIGHT (kg) */
	{ 3110, 3115, 4, FIX, { N(6) } },		/* 3110-3115 LENGTH (m) */
	{ 3120, 3125, 4, FIX, { N(6) } },		/* 3120-3125 WIDTH (m) */
	{ 3130, 3135, 4, FIX, { N(6) } },		/* 3130-3135 HEIGHT (m) */
	{ 3140, 3145, 4, FIX, { N(6) } },		/* 3140-3145 AREA (m2) */
	{ 3150, 3155, 4, FIX, { N(6) } },		/* 3150-3155 NET VOLUME (l) */
	{ 3160, 3165, 4, FIX, { N(6) } },		/* 3160-3165 NET VOLUME (m3) */
	{ 3200, 3205, 4, FIX, { N(6) } },		/* 3200-3205 NET WEIGHT (lb) */
	{ 3210, 3215, 4, FIX, { N(6) } },		/* 3210-3215 LENGTH (in) */
	{ 3220, 3225, 4, FIX, { N(6) } },		/* 3220-3225 LENGTH (ft) */
	{ 3230, 3235, 4, FIX, { N(6) } },		/* 3230-3235 LENGTH (yd) */
	{ 3240, 3245, 4, FIX, { N(6) } },		/* 3240-3245 WIDTH (in) */
	{ 3250, 3255, 4, FIX, { N(6) } },		/* 3250-3255 WIDTH (ft) */
	{ 3260, 3265, 4, FIX, { N(6) } },		/* 3260-3265 WIDTH (yd) */
	{ 3270, 3275, 4, FIX, { N(6) } },		/* 3270-3275 HEIGHT (in) */
	{ 3280, 3285, 4, FIX, { N(6) } },		/* 3280-3285 HEIGHT (ft) */
	{ 3290, 3295, 4, FIX, { N(6) } },		/* 3290-3295 HEIGHT (yd) */
	{ 3300, 3305, 4, FIX, { N(6) } },		/* 3300-3305 GROSS WEIGHT (kg) */
	{ 3310, 3315, 4, FIX, { N(6) } },		/* 3310-3315 LENGTH (m), log */
	{ 3320, 3325, 4, FIX, { N(6) } },		/* 3320-3325 WIDTH (m), log */
	{ 3330, 3335, 4, FIX, { N(6) } },		/* 3330-3335 HEIGHT (m), log */
	{ 3340, 3345, 4, FIX, { N(6) } },		/* 3340-3345 AREA (m2), log */
	{ 3350, 3355, 4, FIX, { N(6) } },		/* 3350-3355 VOLUME (l), log */
	{ 3360, 3365, 4, FIX, { N(6) } },		/* 3360-3365 VOLUME (m3), log */
	{ 3370, 3375, 4, FIX, { N(6) } },		/* 3370-3375 KG PER m2 */
	{ 3400, 3405, 4, FIX, { N(6) } },		/* 3400-3405 GROSS WEIGHT (lb) */
	{ 3410, 3415, 4, FIX, { N(6) } },		/* 3410-3415 LENGTH (in), log */
	{ 3420, 3425, 4, FIX, { N(6) } },		/* 3420-3425 LENGTH (ft), log */
	{ 3430, 3435, 4, FIX, { N(6) } },		/* 3430-3435 LENGTH (yd), log */
	{ 3440, 3445, 4, FIX, { N(6) } },		/* 3440-3445 WIDTH (in), log */
	{ 3450, 3455, 4, FIX, { N(6) } },		/* 3450-3455 WIDTH (ft), log */
	{ 3460, 3465, 4, FIX, { N(6) } },		/* 3460-3465 WIDTH (yd), log */
	{ 3470, 3475, 4, FIX, { N(6) } },		/* 3470-3475 HEIGHT (in), log */
	{ 3480, 3485, 4, FIX, { N(6) } },		/* 3480-3485 HEIGHT (ft), log */
	{ 3490, 3495, 4, FIX, { N(6) } },		/* 3490-3495 HEIGHT (yd), log */
	{ 3500, 3505, 4, FIX, { N(6) } },		/* 3500-3505 AREA (in2) */
	{ 3510, 3515, 4, FIX, { N(6) } },		/* 3510-3515 AREA (ft2) */
	{ 3520, 3525, 4, FIX, { N(6) } },		/* 3520-3525 AREA (yd2) */
	{ 3530, 3535, 4, FIX, { N(6) } },		/* 3530-3535 AREA (in2), log */
	{ 3540, 3545, 4, FIX, { N(6) } },		/* 3540-3545 AREA (ft2), log */
	{ 3550, 3555, 4, FIX, { N(6) } },		/* 3550-3555 AREA (yd2), log */
	{ 3560, 3565, 4, FIX, { N(6) } },		/* 3560-3565 NET WEIGHT (tr oz) */
	{ 3570, 3575, 4, FIX, { N(6) } },		/* 3570-3575 NET VOLUME (oz) */
	{ 3600, 3605, 4, FIX, { N(6) } },		/* 3600-3605 NET VOLUME (qt (US)) */
	{ 3610, 3615, 4, FIX, { N(6) } },		/* 3610-3615 NET VOLUME (gal.) */
	{ 3620, 3625, 4, FIX, { N(6) } },		/* 3620-3625 VOLUME (qt (US)), log */
	{ 3630, 3635, 4, FIX, { N(6) } },		/* 3630-3635 VOLUME (gal (US)), log */
	{ 3640, 3645, 4, FIX, { N(6) } },		/* 3640-3645 NET VOLUME (in3) */
	{ 3650, 3655, 4, FIX, { N(6) } },		/* 3650-3655 NET VOLUME (ft3) */
	{ 3660, 3665, 4, FIX, { N(6) } },		/* 3660-3665 NET VOLUME (yd3) */
	{ 3670, 3675, 4, FIX, { N(6) } },		/* 3670-3675 VOLUME (in3), log */
	{ 3680, 3685, 4, FIX, { N(6) } },		/* 3680-3685 VOLUME (ft3), log */
	{ 3690, 3695, 4, FIX, { N(6) } },		/* 3690-3695 VOLUME (yd3), log */
	{ 37, 37, 2, VAR, { NV(8) } },			/* 37 COUNT */
	{ 3900, 3909, 4, VAR, { NV(15) } },		/* 3900-3909 AMOUNT */
	{ 3910, 3919, 4, VAR, { N(3), NV(15) } },	/* 3910-3919 AMOUNT */
	{ 3920, 3929, 4, VAR, { NV(15) } },		/* 3920-3929 PRICE */
	{ 3930, 3939, 4, VAR, { N(3), NV(15) } },	/* 3930-3939 PRICE */
	{ 3940, 3943, 4, VAR, { N(4) } },		/* 3940-3943 PRCNT OFF */
	{ 3950, 3955, 4, VAR, { N(6) } },		/* 3950-3955 PRICE/UoM */
	{ 400, 400, 3, VAR, { XV(30) } },		/* 400 ORDER NUMBER */
	{ 401, 401, 3, VAR, { XV(30) } },		/* 401 GINC */
	{ 402, 402, 3, VAR, { N(17) } },		/* 402 GSIN */
	{ 403, 403, 3, VAR, { XV(30) } },		/* 403 ROUTE */
	{ 410, 410, 3, FIX, { N(13) } },		/* 410 SHIP TO LOC */
	{ 411, 411, 3, FIX, { N(13) } },		/* 411 BILL TO */
	{ 412, 412, 3, FIX, { N(13) } },		/* 412 PURCHASE FROM */
	{ 413, 413, 3, FIX, { N(13) } },		/* 413 SHIP FOR LOC */
	{ 414, 414, 3, FIX, { N(13) } },		/* 414 LOC No. */
	{ 415, 415, 3, FIX, { N(13) } },		/* 415 PAY TO */
	{ 416, 416, 3, FIX, { N(13) } },		/* 416 PROD/SERV LOC */
	{ 417, 417, 3, FIX, { N(13) } },		/* 417 PARTY */
	{ 420, 420, 3, VAR, { XV(20) } },		/* 420 SHIP TO POST */
	{ 421, 421, 3, VAR, { N(3), XV(9) } },		/* 421 SHIP TO POST */
	{ 422, 422, 3, VAR, { N(3) } },			/* 422 ORIGIN */
	{ 423, 423, 3, VAR, { N(3), OPT_N(3), OPT_N(3), OPT_N(3), OPT_N(3) } },	/* 423 COUNTRY - INITIAL PROCESS */
	{ 424, 424, 3, VAR, { N(3) } },			/* 424 COUNTRY - PROCESS */
	{ 425, 425, 3, VAR, { N(3), OPT_N(3), OPT_N(3), OPT_N(3), OPT_N(3) } },	/* 425 COUNTRY - DISASSEMBLY */
	{ 426, 426, 3, VAR, { N(3) } },			/* 426 COUNTRY - FULL PROCESS */
	{ 427, 427, 3, VAR, { XV(3) } },		/* 427 ORIGIN SUBDIVISION */
	{ 4300, 4300, 4, VAR, { XV(35) } },		/* 4300 SHIP TO COMP */
	{ 4301, 4301, 4, VAR, { XV(35) } },		/* 4301 SHIP TO NAME */
	{ 4302, 4302, 4, VAR, { XV(70) } },		/* 4302 SHIP TO ADD1 */
	{ 4303, 4303, 4, VAR, { XV(70) } },		/* 4303 SHIP TO ADD2 */
	{ 4304, 4304, 4, VAR, { XV(70) } },		/* 4304 SHIP TO SUB */
	{ 4305, 4305, 4, VAR, { XV(70) } },		/* 4305 SHIP TO LOC */
	{ 4306, 4306, 4, VAR, { XV(70) } },		/* 4306 SHIP TO REG */
	{ 4307, 4307, 4, VAR, { X(2) } },		/* 4307 SHIP TO COUNTRY */
	{ 4308, 4308, 4, VAR, { XV(30) } },		/* 4308 SHIP TO PHONE */
	{ 4309, 4309, 4, VAR, { N(10), N(10) } },	/* 4309 SHIP TO GEO */
	{ 4310, 4310, 4, VAR, { XV(35) } },		/* 4310 RTN TO COMP */
	{ 4311, 4311, 4, VAR, { XV(35) } },		/* 4311 RTN TO NAME */
	{ 4312, 4312, 4, VAR, { XV(70) } },		/* 4312 RTN TO ADD1 */
	{ 4313, 4313, 4, VAR, { XV(70) } },		/* 4313 RTN TO ADD2 */
	{ 4314, 4314, 4, VAR, { XV(70) } },		/* 4314 RTN TO SUB */
	{ 4315, 4315, 4, VAR, { XV(70) } },		/* 4315 RTN TO LOC */
	{ 4316, 4316, 4, VAR, { XV(70) } },		/* 4316 RTN TO REG */
	{ 4317, 4317, 4, VAR, { X(2) } },		/* 4317 RTN TO COUNTRY */
	{ 4318, 4318, 4, VAR, { XV(20) } },		/* 4318 RTN TO POST */
	{ 4319, 4319, 4, VAR, { XV(30) } },		/* 4319 RTN TO PHONE */
	{ 4320, 4320, 4, VAR, { XV(35) } },		/* 4320 SRV DESCRIPTION */
	{ 4321, 4321, 4, VAR, { N(1) } },		/* 4321 DANGEROUS GOODS */
	{ 4322, 4322, 4, VAR, { N(1) } },		/* 4322 AUTH TO LEAVE */
	{ 4323, 4323, 4, VAR, { N(1) } },		/* 4323 SIG REQUIRED */
	{ 4324, 4324, 4, VAR, { YYMMD0, N(4) } },	/* 4324 NOT BEF DEL DT */
	{ 4325, 4325, 4, VAR, { YYMMD0, N(4) } },	/* 4325 NOT AFT DEL DT */
	{ 4326, 4326, 4, VAR, { YYMMDD } },		/* 4326 REL DATE */
	{ 4330, 4330, 4, VAR, { N(6), OPT_X(1) } },	/* 4330 MAX TEMP F. */
	{ 4331, 4331, 4, VAR, { N(6), OPT_X(1) } },	/* 4331 MAX TEMP C. */
	{ 4332, 4332, 4, VAR, { N(6), OPT_X(1) } },	/* 4332 MIN TEMP F. */
	{ 4333, 4333, 4, VAR, { N(6), OPT_X(1) } },	/* 4333 MIN TEMP C. */
	{ 7001, 7001, 4, VAR, { N(13) } },		/* 7001 NSN */
	{ 7002, 7002, 4, VAR, { XV(30) } },		/* 7002 MEAT CUT */
	{ 7003, 7003, 4, VAR, { YYMMDD, N(4) } },	/* 7003 EXPIRY TIME */
	{ 7004, 7004, 4, VAR, { NV(4) } },		/* 7004 ACTIVE POTENCY */
	{ 7005, 7005, 4, VAR, { XV(12) } },		/* 7005 CATCH AREA */
	{ 7006, 7006, 4, VAR, { YYMMDD } },		/* 7006 FIRST FREEZE DATE */
	{ 7007, 7007, 4, VAR, { YYMMDD, OPT_YYMMDD } },	/* 7007 HARVEST DATE */
	{ 7008, 7008, 4, VAR, { XV(3) } },		/* 7008 AQUATIC SPECIES */
	{ 7009, 7009, 4, VAR, { XV(10) } },		/* 7009 FISHING GEAR TYPE */
	{ 7010, 7010, 4, VAR, { XV(2) } },		/* 7010 PROD METHOD */
	{ 7011, 7011, 4, VAR, { YYMMDD, OPT_N(4) } },	/* 7011 TEST BY DATE */
	{ 7020, 7020, 4, VAR, { XV(20) } },		/* 7020 REFURB LOT */
	{ 7021, 7021, 4, VAR, { XV(20) } },		/* 7021 FUNC STAT */
	{ 7022, 7022, 4, VAR, { XV(20) } },		/* 7022 REV STAT */
	{ 7023, 7023, 4, VAR, { XV(30) } },		/* 7023 GIAI - ASSEMBLY */
	{ 7030, 7030, 4, VAR, { N(3), XV(27) } },	/* 7030 PROCESSOR # 0 */
	{ 7031, 7031, 4, VAR, { N(3), XV(27) } },	/* 7031 PROCESSOR # 1 */
	{ 7032, 7032, 4, VAR, { N(3), XV(27) } },	/* 7032 PROCESSOR # 2 */
	{ 7033, 7033, 4, VAR, { N(3), XV(27) } },	/* 7033 PROCESSOR # 3 */
	{ 7034, 7034, 4, VAR, { N(3), XV(27) } },	/* 7034 PROCESSOR # 4 */
	{ 7035, 7035, 4, VAR, { N(3), XV(27) } },	/* 7035 PROCESSOR # 5 */
	{ 7036, 7036, 4, VAR, { N(3), XV(27) } },	/* 7036 PROCESSOR # 6 */
	{ 7037, 7037, 4, VAR, { N(3), XV(27) } },	/* 7037 PROCESSOR # 7 */
	{ 7038, 7038, 4, VAR, { N(3), XV(27) } },	/* 7038 PROCESSOR # 8 */
	{ 7039, 7039, 4, VAR, { N(3), XV(27) } },	/* 7039 PROCESSOR # 9 */
	{ 7040, 7040, 4, VAR, { N(1), X(1), X(1), X(1) } },	/* 7040 UIC+EXT */
	{ 7041, 7041, 4, VAR, { XV(4) } },		/* 7041 UFRGT UNIT TYPE */
	{ 710, 710, 3, VAR, { XV(20) } },		/* 710 NHRN PZN */
	{ 711, 711, 3, VAR, { XV(20) } },		/* 711 NHRN CIP */
	{ 712, 712, 3, VAR, { XV(20) } },		/* 712 NHRN CN */
	{ 713, 713, 3, VAR, { XV(20) } },		/* 713 NHRN DRN */
	{ 714, 714, 3, VAR, { XV(20) } },		/* 714 NHRN AIM */
	{ 715, 715, 3, VAR, { XV(20) } },		/* 715 NHRN NDC */
	{ 716, 716, 3, VAR, { XV(20) } },		/* 716 NHRN AIC */
	{ 717, 717, 3, VAR, { XV(20) } },		/* 717 NHRN SRN */
	{ 7230, 7230, 4, VAR, { X(2), XV(28) } },	/* 7230 CERT # 1 */
	{ 7231, 7231, 4, VAR, { X(2), XV(28) } },	/* 7231 CERT # 2 */
	{ 7232, 7232, 4, VAR, { X(2), XV(28) } },	/* 7232 CERT # 3 */
	{ 7233, 7233, 4, VAR, { X(2), XV(28) } },	/* 7233 CERT # 4 */
	{ 7234, 7234, 4, VAR, { X(2), XV(28) } },	/* 7234 CERT # 5 */
	{ 7235, 7235, 4, VAR, { X(2), XV(28) } },	/* 7235 CERT # 6 */
	{ 7236, 7236, 4, VAR, { X(2), XV(28) } },	/* 7236 CERT # 7 */
	{ 7237, 7237, 4, VAR, { X(2), XV(28) } },	/* 7237 CERT # 8 */
	{ 7238, 7238, 4, VAR, { X(2), XV(28) } },	/* 7238 CERT # 9 */
	{ 7239, 7239, 4, VAR, { X(2), XV(28) } },	/* 7239 CERT # 10 */
	{ 7240, 7240, 4, VAR, { XV(20) } },		/* 7240 PROTOCOL */
	{ 7241, 7241, 4, VAR, { N(2) } },		/* 7241 AIDC MEDIA TYPE */
	{ 7242, 7242, 4, VAR, { XV(25) } },		/* 7242 VCN */
	{ 7250, 7250, 4, VAR, { YYYYMMDD } },		/* 7250 DOB */
	{ 7251, 7251, 4, VAR, { YYYYMMDD, N(4) } },	/* 7251 DOB TIME */
	{ 7252, 7252, 4, VAR, { N(1) } },		/* 7252 BIO SEX */
	{ 7253, 7253, 4, VAR, { XV(40) } },		/* 7253 FAMILY NAME */
	{ 7254, 7254, 4, VAR, { XV(40) } },		/* 7254 GIVEN NAME */
	{ 7255, 7255, 4, VAR, { XV(10) } },		/* 7255 SUFFIX */
	{ 7256, 7256, 4, VAR, { XV(90) } },		/* 7256 FULL NAME */
	{ 7257, 7257, 4, VAR, { XV(70) } },		/* 7257 PERSON ADDR */
	{ 7258, 7258, 4, VAR, { X(3) } },		/* 7258 BIRTH SEQUENCE */
	{ 7259, 7259, 4, VAR, { XV(40) } },		/* 7259 BABY */
	{ 8001, 8001, 4, VAR, { N(4), N(5), N(3), N(1), N(1) } },	/* 8001 DIMENSIONS */
	{ 8002, 8002, 4, VAR, { XV(20) } },		/* 8002 CMT No. */
	{ 8003, 8003, 4, VAR, { N(1), N(13), OPT_XV(16) } },	/* 8003 GRAI */
	{ 8004, 8004, 4, VAR, { XV(30) } },		/* 8004 GIAI */
	{ 8005, 8005, 4, VAR, { N(6) } },		/* 8005 PRICE PER UNIT */
	{ 8006, 8006, 4, VAR, { N(14), N(4) } },	/* 8006 ITIP */
	{ 8007, 8007, 4, VAR, { XV(34) } },		/* 8007 IBAN */
	{ 8008, 8008, 4, VAR, { YYMMDD, N(2), OPT_N(2), OPT_N(2) } },	/* 8008 PROD TIME */
	{ 8009, 8009, 4, VAR, { XV(50) } },		/* 8009 OPTSEN */
	{ 8010, 8010, 4, VAR, { YV(30) } },		/* 8010 CPID */
	{ 8011, 8011, 4, VAR, { NV(12) } },		/* 8011 CPID SERIAL */
	{ 8012, 8012, 4, VAR, { XV(20) } },		/* 8012 VERSION */
	{ 8013, 8013, 4, VAR, { XV(25) } },		/* 8013 GMN */
	{ 8014, 8014, 4, VAR, { XV(25) } },		/* 8014 MUDI */
	{ 8017, 8017, 4, VAR, { N(18) } },		/* 8017 GSRN - PROVIDER */
	{ 8018, 8018, 4, VAR, { N(18) } },		/* 8018 GSRN - RECIPIENT */
	{ 8019, 8019, 4, VAR, { NV(10) } },		/* 8019 SRIN */
	{ 8020, 8020, 4, VAR, { XV(25) } },		/* 8020 REF No. */
	{ 8026, 8026, 4, VAR, { N(14), N(4) } },	/* 8026 ITIP CONTENT */
	{ 8030, 8030, 4, VAR, { ZV(90) } },		/* 8030 DIGSIG */
	{ 8040, 8040, 4, VAR, { N(15) } },		/* 8040 IMEI */
	{ 8041, 8041, 4, VAR, { N(15) } },		/* 8041 IMEI2 */
	{ 8042, 8042, 4, VAR, { N(32) } },		/* 8042 ESIM */
	{ 8043, 8043, 4, VAR, { N(18), OPT_NV(2) } },	/* 8043 PSIM */
	{ 8110, 8110, 4, VAR, { XV(70) } },		/* 8110  */
	{ 8111, 8111, 4, VAR, { N(4) } },		/* 8111 POINTS */
	{ 8112, 8112, 4, VAR, { XV(70) } },		/* 8112  */
	{ 8200, 8200, 4, VAR, { XV(70) } },		/* 8200 PRODUCT URL */
	{ 90, 90, 2, VAR, { XV(30) } },			/* 90 INTERNAL */
	{ 91, 91, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 92, 92, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 93, 93, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 94, 94, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 95, 95, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 96, 96, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 97, 97, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 98, 98, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
	{ 99, 99, 2, VAR, { XV(90) } },			/* 91-99 INTERNAL */
};

_Static_assert(sizeof code_gs1_table / sizeof code_gs1_table[0] * 10
	       <= CODE_GS1_SLOTS, "CODE_GS1_SLOTS too small");

/* The run of table rows for each two-digit AI prefix; count 0 = none. */
static const struct {
	uint8_t start, count;
} code_gs1_prefix[100] = {
	[0] = { 0, 1 },
	[1] = { 1, 1 },
	[2] = { 2, 1 },
	[3] = { 3, 1 },
	[10] = { 4, 1 },
	[11] = { 5, 1 },
	[12] = { 6, 1 },
	[13] = { 7, 1 },
	[15] = { 8, 1 },
	[16] = { 9, 1 },
	[17] = { 10, 1 },
	[20] = { 11, 1 },
	[21] = { 12, 1 },
	[22] = { 13, 1 },
	[23] = { 14, 1 },
	[24] = { 15, 4 },
	[25] = { 19, 5 },
	[30] = { 24, 1 },
	[31] = { 25, 7 },
	[32] = { 32, 10 },
	[33] = { 42, 8 },
	[34] = { 50, 10 },
	[35] = { 60, 8 },
	[36] = { 68, 10 },
	[37] = { 78, 1 },
	[39] = { 79, 6 },
	[40] = { 85, 4 },
	[41] = { 89, 8 },
	[42] = { 97, 8 },
	[43] = { 105, 31 },
	[70] = { 136, 27 },
	[71] = { 163, 8 },
	[72] = { 171, 23 },
	[80] = { 194, 24 },
	[81] = { 218, 3 },
	[82] = { 221, 1 },
	[90] = { 222, 1 },
	[91] = { 223, 1 },
	[92] = { 224, 1 },
	[93] = { 225, 1 },
	[94] = { 226, 1 },
	[95] = { 227, 1 },
	[96] = { 228, 1 },
	[97] = { 229, 1 },
	[98] = { 230, 1 },
	[99] = { 231, 1 },
};

static int code_gs1_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

const struct code_gs1_ai *code_gs1_ai_find(const char *s, size_t n,
					   unsigned *ai, size_t *ailen)
{
	*ailen = 2;
	if (n < 2 || !code_gs1_isdigit(s[0]) || !code_gs1_isdigit(s[1]))
		return NULL;
	unsigned p = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	if (code_gs1_prefix[p].count == 0)
		return NULL;
	const struct code_gs1_ai *e = &code_gs1_table[code_gs1_prefix[p].start];
	const struct code_gs1_ai *end = e + code_gs1_prefix[p].count;
	*ailen = e->ailen;
	if (n < e->ailen)
		return NULL;
	unsigned v = 0;
	for (size_t i = 0; i < e->ailen; i++) {
		if (!code_gs1_isdigit(s[i]))
			return NULL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	for (; e < end; e++) {
		if (v >= e->lo && v <= e->hi) {
			*ai = v;
			return e;
		}
	}
	return NULL;
}

size_t code_gs1_ai_slot(const struct code_gs1_ai *e, unsigned ai)
{
	return (size_t)(e - code_gs1_table) * 10 + (ai - e->lo);
}
