/*
 * partition.c - where a code, a batch's broken rows and a claim's
 * idempotency entry live (docs/cluster.md, "Partitions and streams"):
 * the first 8 bytes of a tagged SHA-256, big-endian, modulo P.  Stable
 * across releases, machines and byte orders, and evenly spread whatever
 * the product mix (a code's serial digits are not).
 */
#include <openssl/evp.h>
#include <string.h>

#include "cluster_int.h"

static unsigned hash_mod(const char *tag, const char *a, size_t an, const char *b, size_t bn,
			 bool two, unsigned partitions)
{
	uint8_t md[32];
	unsigned len = 0;
	uint64_t v = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || partitions == 0)
		goto done;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, tag, strlen(tag));
	EVP_DigestUpdate(c, a, an);
	if (two) {
		EVP_DigestUpdate(c, "", 1);	/* the NUL between the parts */
		EVP_DigestUpdate(c, b, bn);
	}
	if (EVP_DigestFinal_ex(c, md, &len) == 1)
		for (int i = 0; i < 8; i++)
			v = v << 8 | md[i];
done:
	EVP_MD_CTX_free(c);
	return partitions ? (unsigned)(v % partitions) : 0;
}

unsigned cluster_partition_of_code(const char *canon, size_t n, unsigned partitions)
{
	return hash_mod("yima partition v1\n", canon, n, NULL, 0, false, partitions);
}

unsigned cluster_partition_of_batch(const char *owner, const char *batch_id, unsigned partitions)
{
	return hash_mod("yima partition v1 batch\n", owner, strlen(owner), batch_id, strlen(batch_id),
			true, partitions);
}

unsigned cluster_partition_of_claim(const char *facility, const char *settlement, unsigned partitions)
{
	return hash_mod("yima partition v1 claim\n", facility, strlen(facility), settlement,
			strlen(settlement), true, partitions);
}
