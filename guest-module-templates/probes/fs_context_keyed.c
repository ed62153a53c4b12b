// SPDX-License-Identifier: GPL-2.0
// Probe: fs_context_keyed
// API: get_tree_keyed(fc, fill_super, key), struct fs_context_operations, fsparam_flag, fs_parse
// Header: include/linux/fs_context.h
// Symbol: get_tree_keyed
#include <linux/fs_context.h>
#include <linux/fs_parser.h>

static const struct fs_parameter_spec probe_params[] = {
	fsparam_flag("probe", 0),
	{}
};

static int __used probe_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct fs_parse_result result;

	return fs_parse(fc, probe_params, param, &result);
}

static int __used probe_fill_super(struct super_block *sb, struct fs_context *fc)
{
	return 0;
}

static int __used probe_get_tree(struct fs_context *fc)
{
	return get_tree_keyed(fc, probe_fill_super, fc->fs_private);
}

static const struct fs_context_operations probe_context_ops __used = {
	.parse_param = probe_parse_param,
	.get_tree = probe_get_tree,
};
