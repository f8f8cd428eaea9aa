/* PCI selectors and addresses (agent/pci.c): an address that parses is
 * canonical and parses to itself. */
#include <stdio.h>

#include "fuzz.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), addr[64], again[64];
	struct pci_selector sel;

	if (pci_addr_parse(s, addr, sizeof(addr)) == 0) {
		FUZZ_ASSERT(strlen(addr) >= 12 && strlen(addr) <= 16);   /* domains are 4 to 8 hex digits (VMD: 10000) */
		FUZZ_ASSERT(pci_addr_parse(addr, again, sizeof(again)) == 0 && strcmp(addr, again) == 0);
		FUZZ_ASSERT(pci_addr_cmp(addr, again) == 0);
	}
	(void)pci_selector_parse(s, &sel);
	free(s);
	return 0;
}
