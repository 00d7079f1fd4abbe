//! The module surgery after a snapshot: dropping the data segments it has spent.
//!
//! wizer applies the guest's active data segments to the snapshot's memory and
//! then keeps each one as an *empty passive* segment, so that the indices of any
//! real passive ones stay what the code says. CPython's build has 24,171 data
//! segments (wasm-opt splits its data at runs of zeros), and wasmtime records
//! the length and address of every data segment in each new instance: walking
//! 24,171 empty ones was 40 of the 42 µs that an instance of the snapshot took.
//! When no instruction names a data segment (no `memory.init`, no `data.drop`),
//! nothing can tell the empty passive segments are gone, so they go and the
//! others keep their order. Otherwise the module is left as it is.

use super::exports::copy_section;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{DataCountSection, DataSection};
use wasmparser::{Data, DataKind, Operator, Parser, Payload};

/// `wasm` without its empty passive data segments, when its code names no data
/// segment; otherwise `wasm` unchanged. Also returns how many were dropped.
pub fn drop_spent(wasm: &[u8]) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut kept = 0u32;
    let mut spent = 0usize;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::DataSection(segments) => {
                for segment in segments {
                    if is_spent(&segment?) {
                        spent += 1;
                    } else {
                        kept += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut operators = body.get_operators_reader()?;
                while !operators.eof() {
                    if matches!(
                        operators.read()?,
                        Operator::MemoryInit { .. } | Operator::DataDrop { .. }
                    ) {
                        return Ok((wasm.to_vec(), 0));
                    }
                }
            }
            _ => {}
        }
    }
    if spent == 0 {
        return Ok((wasm.to_vec(), 0));
    }
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match &payload {
            Payload::DataCountSection { .. } => {
                out.section(&DataCountSection { count: kept });
                continue;
            }
            Payload::DataSection(segments) => {
                let mut section = DataSection::new();
                for segment in segments.clone() {
                    let segment = segment?;
                    if !is_spent(&segment) {
                        RoundtripReencoder.parse_data(&mut section, segment)?;
                    }
                }
                out.section(&section);
                continue;
            }
            _ => {}
        }
        copy_section(&mut out, wasm, &payload);
    }
    Ok((out.finish(), spent))
}

/// An empty passive segment: what wizer leaves of an applied active one.
fn is_spent(segment: &Data<'_>) -> bool {
    matches!(segment.kind, DataKind::Passive) && segment.data.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection, Instruction,
        MemorySection, MemoryType, Module, TypeSection,
    };

    /// A module with a memory, a passive segment with bytes, an active one,
    /// `spent` empty passive ones among them, and one function whose body is
    /// `body`.
    fn module(spent: usize, body: &[Instruction<'_>]) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 0);
        module.section(&exports);
        module.section(&DataCountSection {
            count: 2 + spent as u32,
        });
        let mut code = CodeSection::new();
        let mut function = Function::new([]);
        for instruction in body {
            function.instruction(instruction);
        }
        function.instruction(&Instruction::End);
        code.function(&function);
        module.section(&code);
        let mut data = DataSection::new();
        for _ in 0..spent / 2 {
            data.passive([]);
        }
        data.passive(*b"kept");
        for _ in spent / 2..spent {
            data.passive([]);
        }
        data.active(0, &ConstExpr::i32_const(16), *b"hello");
        module.section(&data);
        module.finish()
    }

    fn segments(wasm: &[u8]) -> Vec<(bool, Vec<u8>)> {
        let mut found = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::DataSection(segments) = payload.unwrap() {
                for segment in segments {
                    let segment = segment.unwrap();
                    let active = matches!(segment.kind, DataKind::Active { .. });
                    found.push((active, segment.data.to_vec()));
                }
            }
        }
        found
    }

    #[test]
    fn empty_passive_segments_go_when_no_code_names_a_segment() {
        let wasm = module(1_000, &[Instruction::Nop]);
        let (dropped, count) = drop_spent(&wasm).unwrap();
        assert_eq!(count, 1_000);
        wasmparser::validate(&dropped).expect("still a valid module");
        assert_eq!(
            segments(&dropped),
            vec![(false, b"kept".to_vec()), (true, b"hello".to_vec())]
        );
        assert!(dropped.len() < wasm.len());
    }

    #[test]
    fn a_module_whose_code_names_a_segment_is_left_as_it_is() {
        for body in [
            [Instruction::DataDrop(3)].as_slice(),
            &[
                Instruction::I32Const(0),
                Instruction::I32Const(0),
                Instruction::I32Const(0),
                Instruction::MemoryInit {
                    mem: 0,
                    data_index: 1,
                },
            ],
        ] {
            let wasm = module(4, body);
            wasmparser::validate(&wasm).unwrap();
            assert_eq!(drop_spent(&wasm).unwrap(), (wasm.clone(), 0));
        }
    }

    #[test]
    fn a_module_with_nothing_spent_is_left_as_it_is() {
        let wasm = module(0, &[Instruction::Nop]);
        assert_eq!(drop_spent(&wasm).unwrap(), (wasm.clone(), 0));
    }
}
