"""Reading executables: ELF headers, segments and notes, and Go build information (version,
module path, build ids), as Go's debug/buildinfo does, with the standard library only."""

import os
import struct

BUILDINFO_MAGIC = b'\xff Go buildinf:'
# The most this module reads of one executable (it runs as root, over files any user can make):
# a crafted ELF cannot make it read more, whatever its headers say.
MAX_READ = 32 << 20
# Where .go.buildinfo has no section header, the writable segments are searched: this far at most.
MAX_BUILDINFO_SCAN = 16 << 20


class Elf(object):
    def __init__(self, f, max_read=MAX_READ):
        self.f = f
        self.budget = max_read
        ident = self.read(0, 64)
        if len(ident) < 52 or ident[:4] != b'\x7fELF':
            raise ValueError('not ELF')
        self.is64 = ident[4] == 2
        self.e = '<' if ident[5] == 1 else '>'
        e = self.e
        if self.is64:
            (self.phoff, self.shoff) = struct.unpack(e + 'QQ', ident[32:48])
            (self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack(e + 'HHHHH', ident[54:64])
        else:
            (self.phoff, self.shoff) = struct.unpack(e + 'II', ident[28:36])
            (self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack(e + 'HHHHH', ident[42:52])
        want = (64, 56) if self.is64 else (40, 32)  # the sizes of a section and a program header
        if (self.shnum and self.shentsize < want[0]) or (self.phnum and self.phentsize < want[1]) \
                or self.shentsize > 256 or self.phentsize > 256:
            raise ValueError('bad ELF header sizes')
        try:
            self.sections = self._sections()
            self.segments = self._segments()
        except struct.error:
            raise ValueError('truncated ELF headers')

    def read(self, off, n):
        """n bytes at off (fewer at the end of the file); ValueError once MAX_READ is spent."""
        if n > self.budget:
            raise ValueError('the executable asks for more than %d MB to be read: not parsed' % (MAX_READ >> 20))
        self.f.seek(off)
        b = self.f.read(n)
        self.budget -= len(b)
        return b

    def _sections(self):
        out = []
        if not self.shoff or self.shnum == 0 or self.shnum > 10000:
            return out
        raw = self.read(self.shoff, self.shentsize * self.shnum)
        hdrs = []
        for i in range(self.shnum):
            b = raw[i * self.shentsize:(i + 1) * self.shentsize]
            if self.is64:
                name, typ, _fl, addr, off, size = struct.unpack(self.e + 'IIQQQQ', b[:40])
            else:
                name, typ, _fl, addr, off, size = struct.unpack(self.e + 'IIIIII', b[:24])
            hdrs.append((name, typ, addr, off, size))
        if self.shstrndx >= len(hdrs):
            return out
        strtab = self.read(hdrs[self.shstrndx][3], min(hdrs[self.shstrndx][4], 1 << 20))
        for name, typ, addr, off, size in hdrs:
            end = strtab.find(b'\0', name)
            out.append({'name': strtab[name:end].decode('latin-1'), 'type': typ, 'addr': addr, 'off': off, 'size': size})
        return out

    def _segments(self):
        out = []
        if not self.phoff or self.phnum > 10000:
            return out
        raw = self.read(self.phoff, self.phentsize * self.phnum)
        for i in range(self.phnum):
            b = raw[i * self.phentsize:(i + 1) * self.phentsize]
            if self.is64:
                typ, flags, off, vaddr, _pa, filesz, memsz = struct.unpack(self.e + 'IIQQQQQ', b[:48])
            else:
                typ, off, vaddr, _pa, filesz, memsz, flags = struct.unpack(self.e + 'IIIIIII', b[:28])
            out.append({'type': typ, 'flags': flags, 'off': off, 'vaddr': vaddr, 'filesz': filesz, 'memsz': memsz})
        return out

    def section(self, name):
        for s in self.sections:
            if s['name'] == name:
                return s
        return None

    def read_vaddr(self, addr, n):
        for s in self.segments:
            if s['type'] == 1 and s['vaddr'] <= addr < s['vaddr'] + s['filesz']:
                return self.read(s['off'] + addr - s['vaddr'], n)
        return b''

    def notes(self):
        """(name, type, desc) of every note, from SHT_NOTE sections or PT_NOTE segments."""
        areas = [(s['off'], s['size']) for s in self.sections if s['type'] == 7]
        if not areas:
            areas = [(s['off'], s['filesz']) for s in self.segments if s['type'] == 4]
        for off, size in areas:
            data = self.read(off, min(size, 1 << 16))
            i = 0
            while i + 12 <= len(data):
                namesz, descsz, typ = struct.unpack(self.e + 'III', data[i:i + 12])
                i += 12
                name = data[i:i + namesz].rstrip(b'\0')
                i += (namesz + 3) & ~3
                desc = data[i:i + descsz]
                i += (descsz + 3) & ~3
                yield name, typ, desc


def _uvarint(b, i):
    n = shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        n |= (c & 0x7f) << shift
        if c < 0x80:
            return n, i
        shift += 7
    raise ValueError('bad varint')


def _buildinfo_block(elf):
    s = elf.section('.go.buildinfo')
    if s is not None:
        blk = elf.read(s['off'], 64 * 1024)
        if blk[:14] == BUILDINFO_MAGIC:
            return blk
    # No section table entry: search the writable load segments (as debug/buildinfo does).
    scan_left = MAX_BUILDINFO_SCAN
    for seg in elf.segments:
        if seg['type'] != 1 or not (seg['flags'] & 2):
            continue
        off, left = seg['off'], min(seg['filesz'], scan_left)
        scan_left -= left
        while left > 0:
            blk = elf.read(off, min(left, 1 << 20) + 32)
            i = blk.find(BUILDINFO_MAGIC)
            while i >= 0 and (off + i - seg['off']) % 16:
                i = blk.find(BUILDINFO_MAGIC, i + 1)
            if i >= 0:
                return elf.read(off + i, 64 * 1024)
            off += 1 << 20
            left -= 1 << 20
    return None


def read_go_buildinfo(f):
    """{'goVersion', 'modulePath', 'goBuildId', 'gnuBuildId'} of an open ELF file; goVersion is
    None for a non-Go executable. Raises ValueError for a file that is not ELF."""
    elf = Elf(f)
    info = {'goVersion': None, 'modulePath': None, 'goBuildId': None, 'gnuBuildId': None}
    for name, typ, desc in elf.notes():
        if name == b'Go' and typ == 4:
            info['goBuildId'] = desc.decode('utf-8', 'replace')
        elif name == b'GNU' and typ == 3:
            info['gnuBuildId'] = desc.hex()
    blk = _buildinfo_block(elf)
    if blk is None or len(blk) < 32:
        return info
    ptr_size, flags = blk[14], blk[15]
    if flags & 2:  # Go 1.18+: the strings follow the header inline
        n, i = _uvarint(blk, 32)
        version = blk[i:i + n]
        i += n
        n, i = _uvarint(blk, i)
        mod = blk[i:i + n]
    else:  # older: pointers to Go string headers
        e = '>' if flags & 1 else '<'
        fmt = e + ('Q' if ptr_size == 8 else 'I')

        def gostr(at):
            p = struct.unpack(fmt, blk[at:at + ptr_size])[0]
            hdr = elf.read_vaddr(p, 2 * ptr_size)
            if len(hdr) < 2 * ptr_size:
                return b''
            data, ln = struct.unpack(e + ('QQ' if ptr_size == 8 else 'II'), hdr)
            return elf.read_vaddr(data, min(ln, 1 << 20))
        version = gostr(16)
        mod = gostr(16 + ptr_size)
    info['goVersion'] = version.decode('utf-8', 'replace') or None
    if len(mod) >= 33 and mod[-17:-16] == b'\n':
        mod = mod[16:-16]
    for line in mod.decode('utf-8', 'replace').split('\n'):
        if line.startswith('path\t'):
            info['modulePath'] = line[5:]
            break
    return info


_go_info_cache = {}


def go_info_for_pid(pid):
    """Go build info of /proc/PID/exe plus its path, or None if unreadable/not ELF."""
    exe_link = '/proc/%d/exe' % pid
    try:
        st = os.stat(exe_link)
        exe = os.readlink(exe_link)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_size, int(st.st_mtime))
    info = _go_info_cache.get(key)
    if info is None:
        try:
            with open(exe_link, 'rb') as f:
                info = read_go_buildinfo(f)
        except (OSError, ValueError, struct.error, IndexError):
            info = {'goVersion': None, 'modulePath': None, 'goBuildId': None, 'gnuBuildId': None}
        _go_info_cache[key] = info
    out = dict(info)
    out['exe'] = exe
    out['exeSize'] = st.st_size
    return out


# .gopclntab magics this reader knows (Go 1.18-1.19, Go 1.20+): the function table's layout.
_PCLNTAB_MAGICS = (0xfffffff0, 0xfffffff1)


class GoFuncTable(object):
    """The function table of a Go executable's .gopclntab (Go 1.18+): which function holds an
    address, from the binary's own tables, as the Go runtime finds it."""

    def __init__(self, elf):
        s = elf.section('.gopclntab')
        if s is None:
            raise ValueError('no .gopclntab section (not a Go executable, or an unsupported layout)')
        self.elf, self.base = elf, s['off']
        hdr = elf.read(self.base, 8 + 8 * 8)
        if len(hdr) < 8:
            raise ValueError('truncated .gopclntab')
        magic = struct.unpack_from('<I', hdr, 0)[0]
        ptr = hdr[7]
        if magic not in _PCLNTAB_MAGICS or ptr != 8:
            raise ValueError('unsupported .gopclntab (magic 0x%x, pointer size %d): Go 1.18 or newer, 64-bit, is needed' % (magic, ptr))
        (self.nfunc, _nfiles, self.text_start, self.funcname_off, _cu, _file, _pc,
         self.func_off) = struct.unpack_from('<8Q', hdr, 8)
        if self.nfunc > 4 << 20 or self.func_off >= s['size']:
            raise ValueError('implausible .gopclntab header')
        raw = elf.read(self.base + self.func_off, (2 * self.nfunc + 1) * 4)
        if len(raw) < (2 * self.nfunc + 1) * 4:
            raise ValueError('truncated .gopclntab function table')
        words = struct.unpack('<%dI' % (2 * self.nfunc + 1), raw)
        self.entries = [self.text_start + w for w in words[0::2]]  # nfunc entries + the end of text
        self.funcoffs = words[1::2]

    def lookup(self, addr):
        """(entry, end, name) of the function holding addr, or None."""
        import bisect
        i = bisect.bisect_right(self.entries, addr) - 1
        if i < 0 or i >= self.nfunc or addr >= self.entries[i + 1]:
            return None
        return self.entries[i], self.entries[i + 1], self.name(i)

    def name(self, i):
        f = self.elf.read(self.base + self.func_off + self.funcoffs[i], 8)
        name_off = struct.unpack_from('<i', f, 4)[0]
        raw = self.elf.read(self.base + self.funcname_off + name_off, 4096)
        end = raw.find(b'\0')
        return raw[:end if end >= 0 else len(raw)].decode('utf-8', 'replace')
