//! Struct layouts read from a guest's DWARF.
//!
//! The CPython guest was optimised after linking: its DWARF still describes
//! types (struct members and their offsets) but every code address in it is
//! zero, so it cannot name functions. The pre-initialiser needs one layout fact —
//! where a Python function object keeps its C entry point — and takes it from
//! here rather than from a number copied out of CPython's headers.

use gimli::{AttributeValue, DW_AT_data_member_location, DW_AT_name, DW_AT_type, DW_TAG_member};
use gimli::{DW_TAG_typedef, EndianSlice, LittleEndian, SectionId};
use std::collections::HashMap;

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// The byte offset of `member` in the struct that `typedef` names (as in
/// `typedef struct { ... } PyFunctionObject;`), from the first compilation unit
/// that describes it.
pub fn member_offset(wasm: &[u8], typedef: &str, member: &str) -> anyhow::Result<u64> {
    let sections = debug_sections(wasm)?;
    let dwarf = gimli::Dwarf::load(|id: SectionId| -> gimli::Result<Slice<'_>> {
        let bytes = sections.get(id.name()).copied().unwrap_or_default();
        Ok(EndianSlice::new(bytes, LittleEndian))
    })?;
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        let unit = dwarf.unit(header)?;
        let mut entries = unit.entries();
        while let Some(entry) = entries.next_dfs()? {
            if entry.tag() != DW_TAG_typedef || !has_name(&dwarf, &unit, entry, typedef)? {
                continue;
            }
            let Some(AttributeValue::UnitRef(target)) = entry.attr_value(DW_AT_type) else {
                continue;
            };
            let mut tree = unit.entries_tree(Some(target))?;
            let mut children = tree.root()?.children();
            while let Some(child) = children.next()? {
                let field = child.entry();
                if field.tag() == DW_TAG_member && has_name(&dwarf, &unit, field, member)? {
                    return field
                        .attr_value(DW_AT_data_member_location)
                        .and_then(|value| value.udata_value())
                        .ok_or_else(|| {
                            anyhow::anyhow!("{typedef}.{member} has no constant offset")
                        });
                }
            }
        }
    }
    anyhow::bail!("the guest's DWARF does not describe {typedef}.{member}")
}

fn has_name(
    dwarf: &gimli::Dwarf<Slice<'_>>,
    unit: &gimli::Unit<Slice<'_>>,
    entry: &gimli::DebuggingInformationEntry<Slice<'_>>,
    name: &str,
) -> gimli::Result<bool> {
    match entry.attr_value(DW_AT_name) {
        Some(value) => Ok(dwarf.attr_string(unit, value)?.slice() == name.as_bytes()),
        None => Ok(false),
    }
}

/// The module's `.debug_*` custom sections, by name.
fn debug_sections(wasm: &[u8]) -> anyhow::Result<HashMap<&str, &[u8]>> {
    let mut sections = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(section) = payload?
            && section.name().starts_with(".debug_")
        {
            sections.insert(section.name(), section.data());
        }
    }
    if !sections.contains_key(".debug_info") {
        anyhow::bail!("the guest has no DWARF (.debug_info)");
    }
    Ok(sections)
}
