;;;; `import-kernel-struct`: accessor macros for a kernel struct's fields, from the kernel's BTF;
;;;; `kernel-load` and `kernel-load-member`, the reads through a kernel pointer they expand to.
;;;;
;;;; The compiler does no I/O, so the layout comes from a host function the embedding program
;;;; defines: (%kernel-struct "C_NAME") returning (SIZE FIELDS STRUCT-TYPE), each field
;;;; ("c_name" OFFSET ACCESS TYPE BTF-TYPE) with ACCESS :value (TYPE the load type), :address
;;;; (TYPE the embedded struct's C name or NIL) or :bitfield. The CLI and sessions read
;;;; /sys/kernel/btf/vmlinux. Everything else is here.
;;;;
;;;; Offsets are not baked in: accessors take them from (kernel-field-offset STRUCT-TYPE
;;;; "c_name" OFFSET BTF-TYPE), a constant that carries a CO-RE relocation, so the loader
;;;; rewrites it for the kernel the program runs on.
;;;;
;;;; The CO-RE questions of C's bpf_core_read.h (does this field, type or enum value exist on
;;;; the running kernel, what size is it, what number is it) are `kernel-field-exists`,
;;;; `kernel-field-size`, `kernel-type-exists`, `kernel-type-size`, `kernel-enum-value-exists`
;;;; and `kernel-enum-value`. They ask two more host functions, (%kernel-type "name") for a
;;;; struct, union or enum as BTF-TYPE data and (%kernel-enum "name") for (ENUM-TYPE (("NAME"
;;;; VALUE)...)), each NIL when the build machine has no such type; what the build machine
;;;; lacks is described from what the program says, so a program built on a new kernel can
;;;; still ask for a field only old kernels have.

(defmacro kernel-load (type ptr offset)
  "The TYPE (u8...u64, i8...i64) at byte OFFSET of the kernel pointer PTR, read into a stack
buffer with `probe-read-kernel` (0 when the read fails)."
  (let ((size (%scalar-size type))
        (buffer (%fresh "buffer")))
    (unless size
      (error "kernel-load: expected a scalar type (u8...u64, i8...i64), found ~s" type))
    `(let ((,buffer (struct-alloc ,size)))
       (probe-read-kernel ,buffer ,size (+ ,ptr ,offset))
       (load ,type ,buffer 0))))

(defmacro kernel-load-member (ptr struct-type c-name offset btf-type)
  "The integer or enum member C-NAME of the kernel struct at PTR, read at the running kernel's
offset and width (CO-RE field offset and byte size relocations) into a zeroed 8-byte buffer,
and sign-extended from the running kernel's width when BTF-TYPE is signed (the left and right
shift relocations); so a member that is 4 bytes on one kernel and 8 on another reads right on
both."
  (let ((buffer (%fresh "buffer"))
        (member (list struct-type c-name offset btf-type))
        (signed (and (member (first btf-type) '(:int :enum)) (eq (car (last btf-type)) t))))
    (flet ((relocated (kind) `(kernel-field-relocation ,kind ,@member)))
      `(let ((,buffer (struct-alloc 8)))
         (probe-read-kernel ,buffer ,(relocated :field-byte-size)
                            (+ ,ptr (kernel-field-offset ,@member)))
         ,(if signed
              `(>>> (<< (load u64 ,buffer 0) ,(relocated :field-lshift-u64))
                    ,(relocated :field-rshift-u64))
              `(load u64 ,buffer 0))))))

(defmacro typed-ptr (struct expr)
  "EXPR, marked while expanding as a pointer to the kernel struct STRUCT (no run-time cost):
accessors of another struct given it directly report the mix-up."
  (declare (ignore struct))
  expr)

(defun %pointer-tag (ptr)
  "The (typed-ptr STRUCT EXPR) that PTR expands to, or NIL: PTR's macros are expanded only to
look for the mark, never in place of PTR."
  (loop
    (when (and (consp ptr) (eq (first ptr) 'typed-ptr))
      (return ptr))
    (multiple-value-bind (expansion expanded-p)
        (handler-case (macroexpand-1 ptr) (error () (values ptr nil)))
      (unless expanded-p
        (return nil))
      (setq ptr expansion))))

(defun %check-struct-pointer (struct ptr accessor)
  "PTR, or the expression it marks as a pointer; fails when the mark names another struct."
  (let ((tag (%pointer-tag ptr)))
    (cond ((null tag) ptr)
          ((eq (second tag) struct) (third tag))
          (t (error "~(~a~) takes a pointer to ~(~a~), not to ~(~a~); write (as-~(~a~) PTR) to read it as one anyway"
                    accessor struct (second tag) struct)))))

(defun %kernel-field-accessor (struct struct-type field)
  "The `defmacro` of STRUCT's accessor for FIELD, or NIL for a bitfield."
  (destructuring-bind (c-name offset access type btf-type) field
    (let ((accessor (%symbolicate struct "-" (%hyphens c-name)))
          (relocated `(kernel-field-offset ,struct-type ,c-name ,offset ,btf-type)))
      (case access
        (:value
         `(defmacro ,accessor (ptr)
            ,(format nil "The kernel's `~a.~a` (~(~a~) at byte ~d here; relocated for the running kernel), read with probe-read-kernel."
                     (%underscores (symbol-name struct)) c-name type offset)
            ,(if (eq (first btf-type) :ptr)
                 `(list 'kernel-load 'u64 (%check-struct-pointer ',struct ptr ',accessor) ',relocated)
                 `(list* 'kernel-load-member (%check-struct-pointer ',struct ptr ',accessor)
                         ',(rest relocated)))))
        (:address
         (let ((address `(list '+ (%check-struct-pointer ',struct ptr ',accessor) ',relocated)))
           `(defmacro ,accessor (ptr)
              ,(format nil "The address of the kernel's `~a.~a` (byte ~d here; relocated for the running kernel)."
                       (%underscores (symbol-name struct)) c-name offset)
              ,(if type
                   `(list 'typed-ptr ',(intern (%hyphens type)) ,address)
                   address))))
        (t nil)))))

(defun %c-name (name)
  "The kernel's name for NAME (a symbol or string): lower case, `-` read as `_`."
  (%underscores (string-downcase (string name))))

(defun %declared-field (c-name type)
  "A field the build machine lacks, as the program declares it: TYPE u8...i64 or ptr, at byte 0
(the loader finds the running kernel's offset by name)."
  (let ((size (%scalar-size type))
        (pointer (string-equal (symbol-name type) "ptr")))
    (unless (or size pointer)
      (error "kernel field ~a: declare its type as u8...u64, i8...i64 or ptr, not ~(~a~)" c-name type))
    (if pointer
        (list c-name 0 :value 'u64 '(:ptr))
        (list c-name 0 :value type
              (list :int size (char-equal (char (symbol-name type) 0) #\i))))))

(defun %select-kernel-fields (fields wanted struct)
  "The FIELDS named in WANTED, all but bitfields when WANTED is empty. Each of WANTED is a name
(a symbol, `-` or `_`) or (NAME TYPE): the field when the build machine has it, else NAME
declared as TYPE (see `%declared-field`), for fields only some kernels have."
  (if (null wanted)
      (remove :bitfield fields :key #'third)
      (mapcar (lambda (want)
                (let* ((name (%c-name (if (consp want) (first want) want)))
                       (field (find name fields :key #'first :test #'string=)))
                  (cond ((and (null field) (consp want))
                         (%declared-field name (second want)))
                        ((null field)
                         (error "import-kernel-struct ~a: no field ~a; the fields are ~{~a~^ ~} (write (~a TYPE) for a field only other kernels have)"
                                struct name (mapcar #'first fields) name))
                        ((eq (third field) :bitfield)
                         (error "import-kernel-struct ~a: ~a is a bitfield, which a byte load cannot read"
                                struct name))
                        (t field))))
              wanted)))

(defmacro import-kernel-struct (name &rest fields)
  "(import-kernel-struct STRUCT [FIELD...])
Defines, from the kernel's BTF, (STRUCT-FIELD ptr) for each FIELD named (every field when none
is; members of anonymous structs and unions count as the struct's own): integers, enums and
pointers (as u64) are read through the kernel pointer PTR with `kernel-load`; embedded structs,
unions and arrays give their address. Also (as-STRUCT ptr), which marks PTR as a pointer to
STRUCT, and +STRUCT-SIZE+. Hyphens in names stand for the kernel's underscores."
  (unless (fboundp '%kernel-struct)
    (error "import-kernel-struct ~(~a~): this compiler has no kernel BTF reader (the host function %kernel-struct)"
           name))
  (let* ((c-name (%underscores (string-downcase (symbol-name name))))
         (struct (intern (%hyphens c-name)))
         (layout (funcall '%kernel-struct c-name))
         (selected (%select-kernel-fields (second layout) fields c-name)))
    `(progn
       (defmacro ,(%symbolicate "as-" struct) (ptr)
         ,(format nil "PTR, as a pointer to the kernel's struct ~a." c-name)
         (list 'typed-ptr ',struct ptr))
       ,@(remove nil (mapcar (lambda (field) (%kernel-field-accessor struct (third layout) field))
                             selected))
       (defconstant ,(%symbolicate "+" struct "-size+") ,(first layout)))))

;;; CO-RE questions (C's bpf_core_read.h).

(defun %require-kernel-btf (form)
  (unless (fboundp '%kernel-type)
    (error "~(~a~): this compiler has no kernel BTF reader (the host function %kernel-type)" form)))

(defun %kernel-composite (c-name)
  "The struct or union C-NAME as BTF-TYPE data, described as an empty struct when the build
machine has none."
  (let ((type (funcall '%kernel-type c-name)))
    (if (member (first type) '(:struct :union))
        type
        (list :struct c-name 0))))

(defun %kernel-field-arguments (struct field type form)
  "STRUCT-TYPE \"c_name\" OFFSET MEMBER-TYPE for FIELD of the kernel's STRUCT, from the build
machine's BTF, or declared as TYPE (u8...i64, ptr) when the build machine lacks it."
  (%require-kernel-btf form)
  (let* ((c-struct (%c-name struct))
         (c-field (%c-name field))
         (struct-type (%kernel-composite c-struct))
         (fields (and (plusp (third struct-type))
                      (second (funcall '%kernel-struct c-struct))))
         (found (find c-field fields :key #'first :test #'string=))
         (described (cond (found)
                          (type (%declared-field c-field type))
                          (t (error "~(~a~): the kernel here has no field ~a.~a; give its type, as in (~(~a~) ~a ~a u32)"
                                    form c-struct c-field form c-struct c-field)))))
    (list struct-type c-field (second described) (fifth described))))

(defmacro kernel-field-exists (struct field &optional type)
  "(kernel-field-exists STRUCT FIELD [TYPE])
1 when the running kernel's struct STRUCT has a member FIELD, else 0 (bpf_core_field_exists).
The loader decides, so a branch on it keeps a read of the missing field out of the verifier's
way. TYPE (u8...u64, i8...i64, ptr) describes a field the build machine lacks."
  `(kernel-field-relocation :field-exists
                            ,@(%kernel-field-arguments struct field type 'kernel-field-exists)))

(defmacro kernel-field-size (struct field &optional type)
  "(kernel-field-size STRUCT FIELD [TYPE])
The byte size of member FIELD of STRUCT on the running kernel (bpf_core_field_size)."
  `(kernel-field-relocation :field-byte-size
                            ,@(%kernel-field-arguments struct field type 'kernel-field-size)))

(defmacro kernel-type-exists (type)
  "(kernel-type-exists NAME)
1 when the running kernel has a struct, union or enum NAME, else 0 (bpf_core_type_exists). A
NAME the build machine lacks is asked about as a struct."
  (%require-kernel-btf 'kernel-type-exists)
  (let ((c-name (%c-name type)))
    `(kernel-type-relocation :type-exists
                             ,(or (funcall '%kernel-type c-name) (list :struct c-name 0)))))

(defmacro kernel-type-size (type)
  "(kernel-type-size NAME)
The byte size of the running kernel's struct, union or enum NAME (bpf_core_type_size)."
  (%require-kernel-btf 'kernel-type-size)
  (let ((c-name (%c-name type)))
    `(kernel-type-relocation :type-size
                             ,(or (funcall '%kernel-type c-name) (list :struct c-name 0)))))

(defun %kernel-enumerator-arguments (enum value form)
  "ENUM-TYPE \"NAME\" NUMBER for enumerator VALUE of the kernel's ENUM: a string is the exact C
name, a symbol matches regardless of case (upper case when the build machine lacks it); NUMBER
is 0 when the build machine lacks it."
  (%require-kernel-btf form)
  (let* ((c-enum (%c-name enum))
         (known (funcall '%kernel-enum c-enum))
         (wanted (if (stringp value) value (%underscores (symbol-name value))))
         (test (if (stringp value) #'string= #'string-equal))
         (found (find wanted (second known) :key #'first :test test)))
    (list (if known (first known) (list :enum c-enum 4 nil))
          (cond (found (first found))
                ((stringp value) value)
                (t (string-upcase wanted)))
          (if found (second found) 0))))

(defmacro kernel-enum-value-exists (enum value)
  "(kernel-enum-value-exists ENUM VALUE)
1 when the running kernel's enum ENUM has VALUE, else 0 (bpf_core_enum_value_exists)."
  `(kernel-enumerator-relocation :enumval-exists
                                 ,@(%kernel-enumerator-arguments enum value 'kernel-enum-value-exists)))

(defmacro kernel-enum-value (enum value)
  "(kernel-enum-value ENUM VALUE)
The number of VALUE in the running kernel's enum ENUM (bpf_core_enum_value); a load fails, naming
it, when the kernel lacks it and the read is not guarded by `kernel-enum-value-exists`."
  `(kernel-enumerator-relocation :enumval-value
                                 ,@(%kernel-enumerator-arguments enum value 'kernel-enum-value)))
