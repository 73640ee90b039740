/// A value kept in one shared box, copied only when a holder changes it while another holds it too: a struct
/// of many references copied often (a tool, a model, an audit event) then costs one retain per copy, not one per
/// reference (Benchmarks/README, "Copies of a decision's values").
struct CopyOnWrite<Value>: @unchecked Sendable {  // the box is written only when no other copy holds it
    private final class Box {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    init(_ value: Value) {
        box = Box(value)
    }

    var value: Value {
        get { box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }

    /// Whether both hold the same box: then their values are equal without comparing them.
    func sharesStorage(with other: CopyOnWrite<Value>) -> Bool { box === other.box }
}
