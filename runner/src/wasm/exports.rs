//! The module surgery before a snapshot: what the host must reach in a
//! pre-initialised guest that a WASI command does not export.
//!
//! A command exports only `memory` and `_start`. A run of the snapshot enters
//! through the guest's function table (see `preinit.rs`), and needs to know which
//! table slot and which argument; so this adds an export of the table and two
//! exported mutable globals that the pre-initialiser fills in before the
//! snapshot fixes their values. Appending globals and exports renumbers nothing,
//! so the code is copied byte for byte. A guest entered through its own C
//! functions (QuickJS, see `preinit_js.rs`) also gets those exported, found by
//! name in its name section. Custom sections (12 MB of DWARF whose
//! code addresses are void anyway, see `dwarf.rs`) are left out.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, ExportKind, GlobalType, RawSection, ValType};
use wasmparser::{Parser, Payload, TypeRef};

/// The export of the guest's function table.
pub const TABLE: &str = "eduscale_table";
/// The exported global holding the entry's first argument (a `PyObject *`).
pub const ENTRY_OBJECT: &str = "eduscale_entry_object";
/// The exported global holding the entry's table slot.
pub const ENTRY_SLOT: &str = "eduscale_entry_slot";

/// `wasm` with the table and two new `(mut i32)` globals exported under
/// [`TABLE`], [`ENTRY_OBJECT`] and [`ENTRY_SLOT`], the internal `functions`
/// exported under their own names, and without custom sections.
pub fn add_entry_exports(wasm: &[u8], functions: &[&str]) -> anyhow::Result<Vec<u8>> {
    let function_indices = function_indices(wasm, functions)?;
    let mut out = wasm_encoder::Module::new();
    let mut imported_globals = 0u32;
    let mut entry_globals = None;
    let mut has_table = false;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match &payload {
            Payload::CustomSection(_) => continue,
            Payload::ImportSection(imports) => {
                for import in imports.clone().into_imports() {
                    if matches!(import?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::TableSection(tables) => has_table = tables.count() > 0,
            Payload::GlobalSection(globals) => {
                let mut section = wasm_encoder::GlobalSection::new();
                RoundtripReencoder.parse_global_section(&mut section, globals.clone())?;
                let first = imported_globals + globals.count();
                let ty = GlobalType {
                    val_type: ValType::I32,
                    mutable: true,
                    shared: false,
                };
                section.global(ty, &ConstExpr::i32_const(0));
                section.global(ty, &ConstExpr::i32_const(0));
                out.section(&section);
                entry_globals = Some(first);
                continue;
            }
            Payload::ExportSection(exports) => {
                let (Some(first), true) = (entry_globals, has_table) else {
                    anyhow::bail!("the guest defines no globals or no table to export");
                };
                let mut section = wasm_encoder::ExportSection::new();
                RoundtripReencoder.parse_export_section(&mut section, exports.clone())?;
                section.export(TABLE, ExportKind::Table, 0);
                section.export(ENTRY_OBJECT, ExportKind::Global, first);
                section.export(ENTRY_SLOT, ExportKind::Global, first + 1);
                for (name, index) in functions.iter().zip(&function_indices) {
                    section.export(name, ExportKind::Func, *index);
                }
                out.section(&section);
                continue;
            }
            _ => {}
        }
        copy_section(&mut out, wasm, &payload);
    }
    Ok(out.finish())
}

/// Copies the section `payload` was read from, as it is in `wasm`, into `out`
/// (nothing for a payload that is not a whole section).
pub(super) fn copy_section(out: &mut wasm_encoder::Module, wasm: &[u8], payload: &Payload<'_>) {
    if let Some((id, range)) = payload.as_section() {
        out.section(&RawSection {
            id,
            data: &wasm[range],
        });
    }
}

/// The slot of the function `name` in the guest's table, where C keeps its
/// function pointers: the host passes one to the guest as a callback.
pub fn table_slot(wasm: &[u8], name: &str) -> anyhow::Result<u32> {
    let [function] = function_indices(wasm, &[name])?[..] else {
        anyhow::bail!("no function {name}");
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::ElementSection(segments) = payload? else {
            continue;
        };
        for segment in segments {
            let segment = segment?;
            let wasmparser::ElementKind::Active {
                table_index: None | Some(0),
                offset_expr,
            } = segment.kind
            else {
                continue;
            };
            let Some(Ok(wasmparser::Operator::I32Const { value: offset })) =
                offset_expr.get_operators_reader().into_iter().next()
            else {
                continue;
            };
            let wasmparser::ElementItems::Functions(items) = segment.items else {
                continue;
            };
            for (at, item) in items.into_iter().enumerate() {
                if item? == function {
                    return Ok(u32::try_from(offset)? + u32::try_from(at)?);
                }
            }
        }
    }
    anyhow::bail!("{name} is not in the guest's table")
}

/// The indices of `functions`, by the names the guest's name section gives them.
fn function_indices(wasm: &[u8], functions: &[&str]) -> anyhow::Result<Vec<u32>> {
    if functions.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = vec![None; functions.len()];
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CustomSection(section) = payload? else {
            continue;
        };
        let wasmparser::KnownCustom::Name(names) = section.as_known() else {
            continue;
        };
        for subsection in names {
            let wasmparser::Name::Function(map) = subsection? else {
                continue;
            };
            for naming in map {
                let naming = naming?;
                if let Some(at) = functions.iter().position(|f| *f == naming.name) {
                    found[at] = Some(naming.index);
                }
            }
        }
    }
    functions
        .iter()
        .zip(found)
        .map(|(name, index)| {
            index.ok_or_else(|| anyhow::anyhow!("the guest's name section has no function {name}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_added_and_custom_sections_dropped() {
        let mut module = wasm_encoder::Module::new();
        let mut tables = wasm_encoder::TableSection::new();
        tables.table(wasm_encoder::TableType {
            element_type: wasm_encoder::RefType::FUNCREF,
            minimum: 1,
            maximum: None,
            table64: false,
            shared: false,
        });
        module.section(&tables);
        let mut globals = wasm_encoder::GlobalSection::new();
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(ty, &ConstExpr::i32_const(7));
        module.section(&globals);
        module.section(&wasm_encoder::ExportSection::new());
        module.section(&wasm_encoder::CustomSection {
            name: ".debug_info".into(),
            data: [1u8, 2, 3][..].into(),
        });
        let rewritten = add_entry_exports(&module.finish(), &[]).expect("rewrite");

        wasmparser::Validator::new()
            .validate_all(&rewritten)
            .expect("valid");
        let mut exports = Vec::new();
        for payload in Parser::new(0).parse_all(&rewritten) {
            match payload.expect("parse") {
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.expect("export");
                        exports.push((export.name.to_owned(), export.index));
                    }
                }
                Payload::CustomSection(_) => panic!("custom section kept"),
                _ => {}
            }
        }
        let names = [(TABLE, 0), (ENTRY_OBJECT, 1), (ENTRY_SLOT, 2)];
        assert_eq!(exports, names.map(|(name, index)| (name.to_owned(), index)));
    }
}
