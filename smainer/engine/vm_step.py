"""One Cairo VM step without the stock step's per-instruction objects (:mod:`.speedups`, lever 14).

cairo-lang's ``VirtualMachine.step`` spends most of a devnet transaction's time (~65 % under
load): per step it reads the instruction's encoding from memory and looks it up in an LRU cache,
dispatches on enum members in four methods, builds an ``Operands`` dataclass and a list of
addresses, and goes through ``ValidatedMemoryDict.__getattr__`` for every read.

:func:`step` runs the same instruction with the same results for the common case and returns
``False`` (having changed nothing) for everything else, so that the caller runs the stock step:

* the instruction is decoded by the stock decoder once per program offset and kept, as plain
  ints, in a table per program and base (memory is write-once and the program's cells are loaded
  from ``program.data`` by lever 6, so the word at an offset never changes);
* the operands are computed exactly as ``compute_operands`` does (same reads, deductions and
  ``% prime`` arithmetic), as locals;
* everything that can fail, and everything rare, is decided before anything is written: a hint
  at this pc, an auto-deduction rule for a missing operand, an unknown cell, a failed assertion,
  an operation the stock code would reject, relocation rules, the instruction trace. In those
  cases the stock step runs from the unchanged state and fails (or succeeds) as it always did;
* the writes then happen in stock order through the stock ``ValidatedMemoryDict`` (its checks and
  validation rules unchanged, its errors wrapped the stock way), followed by the accessed
  addresses, the registers and the step counter.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from starkware.cairo.lang.compiler.instruction import Instruction
from starkware.cairo.lang.vm import vm_core as _vm_core
from starkware.cairo.lang.vm.relocatable import RelocatableValue

__all__ = ["Prepared", "decode_table", "prepare", "step"]

_RV = RelocatableValue
_new = object.__new__

# Codes of the decoded fields (see :func:`_decode`).
_OP1_FP, _OP1_AP, _OP1_IMM, _OP1_OP0 = range(4)
_RES_OP1, _RES_ADD, _RES_MUL, _RES_UNCONSTRAINED = range(4)
_PC_REGULAR, _PC_JUMP, _PC_JUMP_REL, _PC_JNZ = range(4)
_AP_REGULAR, _AP_ADD, _AP_ADD1, _AP_ADD2 = range(4)
_FP_REGULAR, _FP_AP_PLUS2, _FP_DST = range(3)
_NOP, _ASSERT_EQ, _CALL, _RET = range(4)

_OP1 = {
    Instruction.Op1Addr.FP: _OP1_FP,
    Instruction.Op1Addr.AP: _OP1_AP,
    Instruction.Op1Addr.IMM: _OP1_IMM,
    Instruction.Op1Addr.OP0: _OP1_OP0,
}
_RES = {
    Instruction.Res.OP1: _RES_OP1,
    Instruction.Res.ADD: _RES_ADD,
    Instruction.Res.MUL: _RES_MUL,
    Instruction.Res.UNCONSTRAINED: _RES_UNCONSTRAINED,
}
_PC = {
    Instruction.PcUpdate.REGULAR: _PC_REGULAR,
    Instruction.PcUpdate.JUMP: _PC_JUMP,
    Instruction.PcUpdate.JUMP_REL: _PC_JUMP_REL,
    Instruction.PcUpdate.JNZ: _PC_JNZ,
}
_AP = {
    Instruction.ApUpdate.REGULAR: _AP_REGULAR,
    Instruction.ApUpdate.ADD: _AP_ADD,
    Instruction.ApUpdate.ADD1: _AP_ADD1,
    Instruction.ApUpdate.ADD2: _AP_ADD2,
}
_FP = {
    Instruction.FpUpdate.REGULAR: _FP_REGULAR,
    Instruction.FpUpdate.AP_PLUS2: _FP_AP_PLUS2,
    Instruction.FpUpdate.DST: _FP_DST,
}
_OPCODE = {
    Instruction.Opcode.NOP: _NOP,
    Instruction.Opcode.ASSERT_EQ: _ASSERT_EQ,
    Instruction.Opcode.CALL: _CALL,
    Instruction.Opcode.RET: _RET,
}

Decoded = tuple[bool, int, bool, int, int, int, int, int, int, int, int, int]
# (dst from fp, off0, op0 from fp, off1, op1 source, off2, res, pc update, ap update,
#  fp update, opcode, size)


class Prepared(NamedTuple):
    """What :func:`step` needs about one VM's program, built once per VM (cheaply)."""

    segment: int  # the program's segment index
    base_offset: int  # its base offset
    size: int  # len(program.data)
    words: list[Any]  # program.data
    table: list[Decoded | None]  # per offset, filled lazily; shared per program and base
    hinted: frozenset[int]  # offsets with hints (from the VM's hint table when prepared)
    hints_len: int  # len(vm.hints) when prepared: hints added later (load_program) -> stock


def decode_table(size: int) -> list[Decoded | None]:
    """An empty decode table for a program of ``size`` words."""
    return [None] * size


def prepare(vm: Any, base: Any, words: list[Any], table: list[Decoded | None]) -> Prepared | None:
    """The step data for ``vm`` whose program (``words``, all ints) sits at ``base``."""
    if type(base) is not _RV:
        return None
    hinted = frozenset(
        pc.offset - base.offset
        for pc in vm.hints
        if type(pc) is _RV and pc.segment_index == base.segment_index
    )
    return Prepared(
        base.segment_index, base.offset, len(words), words, table, hinted, len(vm.hints)
    )


def _decode(words: list[Any], i: int) -> Decoded | None:
    """The stock decoding of the instruction at offset ``i`` as plain ints, or None where the
    stock step must decide (no immediate inside the program, a decoding error, a bad imm off2)."""
    if i + 1 >= len(words):
        return None  # the immediate would be read beyond the program: stock
    try:
        instruction = _vm_core.VirtualMachine.decode_instruction(words[i], words[i + 1])
    except Exception:
        return None
    op1 = _OP1[instruction.op1_addr]
    if op1 == _OP1_IMM and instruction.off2 != 1:
        return None  # stock asserts on every run
    return (
        instruction.dst_register.name == "FP",
        instruction.off0,
        instruction.op0_register.name == "FP",
        instruction.off1,
        op1,
        instruction.off2,
        _RES[instruction.res],
        _PC[instruction.pc_update],
        _AP[instruction.ap_update],
        _FP[instruction.fp_update],
        _OPCODE[instruction.opcode],
        instruction.size,
    )


def _rv(segment: int, offset: int) -> Any:
    """``RelocatableValue(segment, offset)`` without the frozen dataclass's ``__init__``: the same
    object state (see lever 13)."""
    value = _new(_RV)
    fields = value.__dict__
    fields["segment_index"] = segment
    fields["offset"] = offset
    return value


def _write(vm: Any, memory: Any, data: dict[Any, Any], prime: int, addr: Any, value: Any) -> None:
    """``vm.validated_memory[addr] = value``: ``value % prime`` written with ``MemoryDict``'s checks
    and the segment's validation rules; the stock path for anything but a plain case."""
    if type(value) is int:
        value %= prime
    elif type(value) is _RV:
        if not 0 <= value.offset < prime:
            value = _rv(value.segment_index, value.offset % prime)
    else:
        vm.validated_memory[addr] = value
        return
    if memory._frozen or type(addr) is not _RV or addr.offset < 0:
        vm.validated_memory[addr] = value
        return
    current = data.setdefault(addr, value)
    if current != value:
        memory.verify_same_value(addr, current, value)  # raises InconsistentMemoryError
    validated = vm.validated_memory
    if addr.segment_index in validated._ValidatedMemoryDict__validation_rules:
        validated._validate_memory_cell(addr, value)


def step(vm: Any, prepared: Prepared) -> bool:
    """Run one step of ``vm`` as the stock ``step`` would; ``False`` (nothing changed) where the
    stock step must run instead."""
    ctx = vm.run_context
    pc = ctx.pc
    if type(pc) is not _RV or pc.segment_index != prepared.segment:
        return False
    i = pc.offset - prepared.base_offset
    if not 0 <= i < prepared.size or i in prepared.hinted or len(vm.hints) != prepared.hints_len:
        return False
    decoded = prepared.table[i]
    if decoded is None:
        decoded = _decode(prepared.words, i)
        if decoded is None:
            return False
        prepared.table[i] = decoded
    memory = ctx.memory
    if memory.relocation_rules:
        return False
    (dst_fp, off0, op0_fp, off1, op1_src, off2, res_kind, pc_up, ap_up, fp_up, opcode, size) = (
        decoded
    )
    prime = vm.prime
    ap = ctx.ap
    fp = ctx.fp
    data = memory.data
    try:
        # Addresses: ``(base + off) % prime``, as RunContext.compute_*_addr.
        base = fp if dst_fp else ap
        if type(base) is _RV:
            dst_addr = _rv(base.segment_index, (base.offset + off0) % prime)
        else:
            dst_addr = (base + off0) % prime
        dst = data.get(dst_addr)
        base = fp if op0_fp else ap
        if type(base) is _RV:
            op0_addr = _rv(base.segment_index, (base.offset + off1) % prime)
        else:
            op0_addr = (base + off1) % prime
        op0 = data.get(op0_addr)
        if op1_src == _OP1_FP:
            base = fp
        elif op1_src == _OP1_AP:
            base = ap
        elif op1_src == _OP1_IMM:
            base = pc
        else:
            if op0 is None:
                return False  # stock: "op0 must be known in double dereference"
            base = op0
        if type(base) is _RV:
            op1_addr = _rv(base.segment_index, (base.offset + off2) % prime)
        else:
            op1_addr = (base + off2) % prime
        op1 = data.get(op1_addr)

        # Auto-deduction rules write memory: the stock step applies them.
        deductions = vm.auto_deduction
        if op0 is None and type(op0_addr) is _RV and op0_addr.segment_index in deductions:
            return False
        if op1 is None and type(op1_addr) is _RV and op1_addr.segment_index in deductions:
            return False

        update_dst = dst is None
        update_op0 = op0 is None
        update_op1 = op1 is None
        res = None
        if op0 is None:  # VirtualMachine.deduce_op0
            if opcode == _CALL:
                op0 = pc + size
            elif opcode == _ASSERT_EQ:
                if res_kind == _RES_ADD and dst is not None and op1 is not None:
                    op0 = (dst - op1) % prime
                    res = dst
                elif res_kind == _RES_MUL and type(dst) is int and type(op1) is int:
                    if op1 == 0:
                        return False  # stock asserts
                    op0 = _vm_core.div_mod(dst, op1, prime)
                    res = dst
        if op1 is None and opcode == _ASSERT_EQ:  # VirtualMachine.deduce_op1
            deduced = None
            if res_kind == _RES_OP1 and dst is not None:
                op1 = deduced = dst
            elif res_kind == _RES_ADD and dst is not None and op0 is not None:
                op1 = (dst - op0) % prime
                deduced = dst
            elif res_kind == _RES_MUL and type(dst) is int and type(op0) is int and op0 != 0:
                op1 = _vm_core.div_mod(dst, op0, prime)
                deduced = dst
            if res is None:
                res = deduced
        if op0 is None or op1 is None:
            return False  # stock raises for the unknown cell
        if res is None:  # VirtualMachine.compute_res
            if res_kind == _RES_OP1:
                res = op1
            elif res_kind == _RES_ADD:
                res = (op0 + op1) % prime
            elif res_kind == _RES_MUL:
                if type(op0) is not int or type(op1) is not int:
                    return False
                res = (op0 * op1) % prime
        if dst is None:
            if opcode == _ASSERT_EQ and res is not None:
                dst = res
            elif opcode == _CALL:
                dst = fp
            else:
                return False  # stock raises for the unknown cell

        # VirtualMachine.opcode_assertions: only the passing case here.
        if opcode == _ASSERT_EQ:
            if res is None or dst != res:
                return False
        elif opcode == _CALL and (op0 != pc + size or dst != fp):
            return False

        # VirtualMachine.update_registers, computed before anything changes: ``(x + k) % prime``
        # for a relocatable ``x`` is ``RelocatableValue(x.segment_index, (x.offset + k) % prime)``.
        if fp_up == _FP_AP_PLUS2:
            new_fp = ap + 2
        elif fp_up == _FP_DST:
            new_fp = dst
        else:
            new_fp = fp
        if ap_up == _AP_ADD:
            if res is None:
                return False
            step_ap = res % prime
            if type(step_ap) is not int:
                return False  # stock: relocatable + relocatable fails
        elif ap_up == _AP_ADD1:
            step_ap = 1
        elif ap_up == _AP_ADD2:
            step_ap = 2
        else:
            step_ap = 0
        if type(ap) is _RV:
            offset = ap.offset + step_ap
            new_ap = (
                ap
                if offset == ap.offset and 0 <= offset < prime
                else _rv(ap.segment_index, offset % prime)
            )
        else:
            new_ap = (ap + step_ap) % prime
        if pc_up == _PC_REGULAR:
            new_pc = _rv(pc.segment_index, (pc.offset + size) % prime)
        elif pc_up == _PC_JUMP:
            if res is None:
                return False
            new_pc = res % prime
        elif pc_up == _PC_JUMP_REL:
            if res is None or type(res) is not int:
                return False
            new_pc = _rv(pc.segment_index, (pc.offset + res) % prime)
        else:  # JNZ; VirtualMachine.is_zero
            if type(dst) is int:
                zero = dst == 0
            elif type(dst) is _RV and dst.offset >= 0:
                zero = False
            else:
                return False
            if zero:
                new_pc = _rv(pc.segment_index, (pc.offset + size) % prime)
            elif type(op1) is int:
                new_pc = _rv(pc.segment_index, (pc.offset + op1) % prime)
            else:
                return False  # stock: relocatable + relocatable fails
    except Exception:
        return False  # whatever stock would raise, it raises from the unchanged state

    vm.skip_instruction_execution = False
    if update_dst or update_op0 or update_op1:
        try:
            if update_dst:
                _write(vm, memory, data, prime, dst_addr, dst)
            if update_op0:
                _write(vm, memory, data, prime, op0_addr, op0)
            if update_op1:
                _write(vm, memory, data, prime, op1_addr, op1)
        except Exception as exc:
            raise vm.as_vm_exception(exc) from None
    accessed = vm.accessed_addresses
    accessed.add(dst_addr)
    accessed.add(op0_addr)
    if op1_src != _OP1_IMM:  # pc + 1 is a program cell, in the set from the start (lever 6)
        accessed.add(op1_addr)
    # pc is a program cell too: the stock ``accessed_addresses.add(pc)`` changes nothing.
    ctx.fp = new_fp
    ctx.ap = new_ap
    ctx.pc = new_pc
    vm.current_step += 1
    return True
