/* Compact JSON records (agent/jrec.c): written out byte for byte as json-c
 * writes the same object, at any depth and with every layout flag; read back
 * by key like an object. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jrec.h"
#include "macro.h"

static const char *const keys[] = { "address", "driver", "iommu/group", "bound", "note" };
static const struct jrec_shape shape = { keys, ARRAY_SIZE(keys) };

/* Strings with everything json-c escapes, and UTF-8 it does not. */
static const char *const strings[] = {
	"0000:3b:02.7", "", "vfio-pci", "a/b\\c\"d", "tab\there\nnew\rret\bback\fform", "\x01\x1f\x7f end",
	"caf\xc3\xa9 \xe2\x82\xac",
};

/* The same members, as a record and as a json-c object. */
static void both(size_t variant, struct json_object **rec, struct json_object **obj)
{
	const char *s1 = strings[variant % ARRAY_SIZE(strings)], *s2 = strings[(variant + 3) % ARRAY_SIZE(strings)];
	int64_t n = variant % 2 ? -42 : INT64_MAX;

	*rec = jrec_new(&shape);
	*obj = json_object_new_object();
	assert_non_null(*rec);
	assert_int_equal(jrec_set(*rec, "address", json_object_new_string(s1)), 0);
	json_object_object_add(*obj, "address", json_object_new_string(s1));
	/* "driver" left null in one variant: null, as json-c writes a NULL member. */
	if (variant % 3) {
		assert_int_equal(jrec_set(*rec, "driver", json_object_new_string(s2)), 0);
		json_object_object_add(*obj, "driver", json_object_new_string(s2));
	} else {
		json_object_object_add(*obj, "driver", NULL);
	}
	assert_int_equal(jrec_set(*rec, "iommu/group", json_object_new_int64(n)), 0);
	json_object_object_add(*obj, "iommu/group", json_object_new_int64(n));
	assert_int_equal(jrec_set(*rec, "bound", json_object_new_boolean(variant % 2)), 0);
	json_object_object_add(*obj, "bound", json_object_new_boolean(variant % 2));
	assert_int_equal(jrec_set(*rec, "note", json_object_new_int(7)), 0);
	json_object_object_add(*obj, "note", json_object_new_int(7));
}

static void test_written_as_json_c_writes_the_object(void **state)
{
	static const int flag_sets[] = {
		0,
		JSON_C_TO_STRING_PLAIN,
		JSON_C_TO_STRING_SPACED,
		JSON_C_TO_STRING_PRETTY,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
	};

	(void)state;
	for (size_t v = 0; v < 12; v++)
		for (size_t f = 0; f < ARRAY_SIZE(flag_sets); f++) {
			struct json_object *rec, *obj, *doc_r = json_object_new_object(), *doc_o = json_object_new_object();
			struct json_object *arr_r = json_object_new_array(), *arr_o = json_object_new_array();

			both(v, &rec, &obj);
			/* At depth 0, and inside an array inside an object (depth 2). */
			assert_string_equal(json_object_to_json_string_ext(rec, flag_sets[f]),
					    json_object_to_json_string_ext(obj, flag_sets[f]));
			json_object_array_add(arr_r, rec);
			json_object_array_add(arr_o, obj);
			json_object_object_add(doc_r, "vfs", arr_r);
			json_object_object_add(doc_o, "vfs", arr_o);
			json_object_object_add(doc_r, "n", json_object_new_int(1));
			json_object_object_add(doc_o, "n", json_object_new_int(1));
			assert_string_equal(json_object_to_json_string_ext(doc_r, flag_sets[f]),
					    json_object_to_json_string_ext(doc_o, flag_sets[f]));
			json_object_put(doc_r);
			json_object_put(doc_o);
		}
}

static void test_read_back_by_key_like_an_object(void **state)
{
	struct json_object *rec, *obj;

	(void)state;
	both(1, &rec, &obj);
	assert_string_equal(json_object_get_string(jrec_get(rec, "address")), strings[1]);
	assert_string_equal(json_object_get_string(jrec_get(rec, "driver")), strings[4]);
	assert_int_equal(json_object_get_int64(jrec_get(rec, "iommu/group")), -42);
	assert_true(json_object_get_boolean(jrec_get(rec, "bound")));
	assert_null(jrec_get(rec, "absent"));
	/* An ordinary object answers the same. */
	assert_string_equal(json_object_get_string(jrec_get(obj, "driver")), strings[4]);
	assert_null(jrec_get(obj, "absent"));
	assert_null(jrec_get(NULL, "driver"));
	/* A plain array is not a record. */
	{
		struct json_object *arr = json_object_new_array();

		json_object_array_add(arr, json_object_new_string("address"));
		assert_null(jrec_get(arr, "address"));
		json_object_put(arr);
	}
	json_object_put(rec);
	json_object_put(obj);
}

/* Only scalars and the shape's keys; what is refused is released (the
 * sanitizer run of this test would see a leak). */
static void test_set_refuses_containers_and_unknown_keys(void **state)
{
	struct json_object *rec = jrec_new(&shape);

	(void)state;
	assert_int_equal(jrec_set(rec, "address", json_object_new_object()), -EINVAL);
	assert_int_equal(jrec_set(rec, "address", json_object_new_array()), -EINVAL);
	assert_int_equal(jrec_set(rec, "address", json_object_new_double(1.5)), -EINVAL);
	assert_int_equal(jrec_set(rec, "other", json_object_new_string("x")), -EINVAL);
	assert_int_equal(jrec_set(rec, "driver", json_object_new_string("x")), 0);
	assert_int_equal(jrec_set(rec, "driver", NULL), 0);
	assert_null(jrec_get(rec, "driver"));
	assert_string_equal(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
			    "{\"address\":null,\"driver\":null,\"iommu\\/group\":null,\"bound\":null,\"note\":null}");
	json_object_put(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_as_json_c_writes_the_object),
		cmocka_unit_test(test_read_back_by_key_like_an_object),
		cmocka_unit_test(test_set_refuses_containers_and_unknown_keys),
	};

	return cmocka_run_group_tests_name("jrec", tests, NULL, NULL);
}
